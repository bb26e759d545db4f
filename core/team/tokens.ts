/**
 * The team's bearer secrets, all random (256 bits) and stored only as SHA-256 hashes, as API keys
 * are (core/property/keys.ts): each is `<prefix>_<id>_<secret>`, where the id finds the stored hash.
 * - `ses`: a person's session (the `tally_session` cookie, which also names the account's actor);
 * - `inv`: an invitation (in its link, once);
 * - `shr`: a shared link; `shu`: a password-protected link once unlocked (12 hours);
 * - `uns`: a digest's unsubscribe link.
 */

import { base64url } from "../base64.ts";
import { sha256Hex } from "../hash.ts";

export const TOKEN_KINDS = ["ses", "inv", "shr", "shu", "uns"] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

const PATTERN = /^(ses|inv|shr|shu|uns)_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export function newId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A new token of a kind: what to hand out once, and the id and hash to keep. */
export async function newToken(kind: TokenKind, id = newId()): Promise<{ id: string; token: string; hash: string }> {
  const secret = base64url(crypto.getRandomValues(new Uint8Array(32)));
  return { id, token: `${kind}_${id}_${secret}`, hash: await sha256Hex(secret) };
}

/** The id and the secret's hash of a presented token of that kind; undefined for anything else. */
export async function readToken(kind: TokenKind, token: string): Promise<{ id: string; hash: string } | undefined> {
  const m = PATTERN.exec(token);
  if (!m || m[1] !== kind || !m[2] || !m[3]) return undefined;
  return { id: m[2], hash: await sha256Hex(m[3]) };
}

export function tokenKind(token: string): TokenKind | undefined {
  const m = PATTERN.exec(token);
  return m ? (m[1] as TokenKind) : undefined;
}

/** The session cookie: HttpOnly (no script reads it), Secure, SameSite=Strict (no other site sends it). */
export const SESSION_COOKIE = "tally_session";
export const SESSION_TTL_MS = 30 * 86_400_000;
export const INVITATION_TTL_MS = 7 * 86_400_000;
export const SHARE_UNLOCK_TTL_MS = 12 * 3_600_000;

/** The cookie's value: the account actor's id (64 hex), a dot, the session token. */
export function sessionCookieValue(accountId: string, token: string): string {
  return `${accountId}.${token}`;
}

export function parseSessionCookie(value: string): { account_id: string; token: string } | undefined {
  const m = /^([0-9a-f]{64})\.(ses_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/.exec(value);
  return m?.[1] && m[2] ? { account_id: m[1], token: m[2] } : undefined;
}
