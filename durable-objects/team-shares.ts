/**
 * A TeamDO's shared links under "share:<id>": read-only access to the property's reports for
 * whoever holds the link, optionally behind a password (PBKDF2, as accounts') and until a date;
 * revoking keeps the record (the audit and the list say when). A password link's holder first
 * unlocks it: that gives a `shu_` token for 12 hours under "unlock:<id>", which dies with the link.
 */
import { digestsEqual } from "../core/property/keys.ts";
import { hashPassword, verifyPassword } from "../core/team/password.ts";
import type { Share } from "../core/team/schemas.ts";
import { newToken, readToken, SHARE_UNLOCK_TTL_MS, tokenKind } from "../core/team/tokens.ts";

export const MAX_SHARES = 100;
interface StoredShare extends Share {
  hash: string;
  password_hash: string | null;
}
interface Unlock {
  share_id: string;
  hash: string;
  expires_at: number;
}

const publicShare = ({ hash: _, password_hash: __, ...share }: StoredShare): Share => share;
const live = (share: StoredShare | undefined, now: number): share is StoredShare =>
  share !== undefined && share.revoked_at === null && (share.expires_at === null || share.expires_at > now);

export async function listShares(storage: DurableObjectStorage): Promise<Share[]> {
  const stored = await storage.list<StoredShare>({ prefix: "share:" });
  return [...stored.values()].map(publicShare).sort((a, b) => b.created_at - a.created_at);
}

export async function createShare(
  storage: DurableObjectStorage,
  input: { label: string; password?: string | undefined; expires_at?: string | undefined },
  by: string,
  now: number,
): Promise<{ share: Share; token: string } | "full"> {
  const active = (await storage.list<StoredShare>({ prefix: "share:" })).size;
  if (active >= MAX_SHARES) return "full";
  const token = await newToken("shr");
  const stored: StoredShare = {
    share_id: token.id,
    label: input.label,
    has_password: input.password !== undefined,
    created_at: now,
    created_by: by,
    expires_at: input.expires_at ? Date.parse(input.expires_at) : null,
    revoked_at: null,
    hash: token.hash,
    password_hash: input.password !== undefined ? await hashPassword(input.password) : null,
  };
  await storage.put(`share:${token.id}`, stored);
  return { share: publicShare(stored), token: token.token };
}

export async function revokeShare(storage: DurableObjectStorage, id: string, now: number): Promise<Share | undefined> {
  const stored = await storage.get<StoredShare>(`share:${id}`);
  if (!stored || stored.revoked_at !== null) return undefined;
  stored.revoked_at = now;
  await storage.put(`share:${id}`, stored);
  return publicShare(stored);
}

/** What a presented link token opens: the share, "locked" (a password link not yet unlocked), or nothing. */
export async function verifyShare(
  storage: DurableObjectStorage,
  token: string,
  now: number,
): Promise<{ share: Share } | "locked" | undefined> {
  if (tokenKind(token) === "shu") {
    const presented = await readToken("shu", token);
    const unlock = presented && (await storage.get<Unlock>(`unlock:${presented.id}`));
    if (!presented || !unlock || unlock.expires_at <= now || !digestsEqual(unlock.hash, presented.hash))
      return undefined;
    const share = await storage.get<StoredShare>(`share:${unlock.share_id}`);
    return live(share, now) ? { share: publicShare(share) } : undefined;
  }
  const found = await findShare(storage, token, now);
  if (!found) return undefined;
  return found.password_hash ? "locked" : { share: publicShare(found) };
}

async function findShare(storage: DurableObjectStorage, token: string, now: number): Promise<StoredShare | undefined> {
  const presented = await readToken("shr", token);
  if (!presented) return undefined;
  const share = await storage.get<StoredShare>(`share:${presented.id}`);
  return live(share, now) && digestsEqual(share.hash, presented.hash) ? share : undefined;
}

/** The password opens a password link for 12 hours (never longer than the link itself lives). */
export async function unlockShare(
  storage: DurableObjectStorage,
  token: string,
  password: string,
  now: number,
): Promise<{ token: string; expires_at: number } | "wrong_password" | undefined> {
  const share = await findShare(storage, token, now);
  if (!share) return undefined;
  if (!share.password_hash || !(await verifyPassword(password, share.password_hash))) return "wrong_password";
  const unlock = await newToken("shu");
  const expires_at = Math.min(now + SHARE_UNLOCK_TTL_MS, share.expires_at ?? Number.POSITIVE_INFINITY);
  await storage.put<Unlock>(`unlock:${unlock.id}`, { share_id: share.share_id, hash: unlock.hash, expires_at });
  const stale = await storage.list<Unlock>({ prefix: "unlock:" });
  const expired = [...stale].filter(([, u]) => u.expires_at <= now).map(([k]) => k);
  if (expired.length > 0) await storage.delete(expired);
  return { token: unlock.token, expires_at };
}
