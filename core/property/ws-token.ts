/**
 * Short-lived signed tokens for browser WebSockets (browsers cannot set headers on them): a key
 * holder asks for one, then opens `/ws/realtime?token=…` within a minute. HMAC-SHA256 over
 * `property.expiry.minter`, where the minter is the id of the API key that asked (or `admin`), so a
 * key's revocation reaches the sockets and reconnections of the tokens it minted; nothing is stored.
 *
 * The MAC key is WS_TOKEN_SECRET when set, else a key derived from ADMIN_TOKEN by HKDF: a token is
 * never a plain HMAC keyed by the admin token itself. HKDF is fast, so what keeps a token holder from
 * testing admin-token guesses offline is the token's entropy (ADMIN_TOKEN ≥ 32 random characters,
 * core/config.ts); a separate WS_TOKEN_SECRET removes the admin token from the question entirely.
 */
import { base64url, fromBase64url } from "../base64.ts";

const encoder = new TextEncoder();

/** HKDF's `info`: binds the derived key to this one use; a new format gets a new version (v2 names the minter). */
export const WS_TOKEN_INFO = "tally ws-token v2";

export const WS_TOKEN_TTL_MS = 60_000;

/**
 * The tokens' HMAC key from the configuration: WS_TOKEN_SECRET, else HKDF-SHA256 of ADMIN_TOKEN;
 * undefined when both are empty (no tokens can be issued).
 */
export async function wsTokenKey(secrets: {
  ADMIN_TOKEN: string;
  WS_TOKEN_SECRET: string;
}): Promise<CryptoKey | undefined> {
  const hmac = { name: "HMAC", hash: "SHA-256" };
  if (secrets.WS_TOKEN_SECRET)
    return crypto.subtle.importKey("raw", encoder.encode(secrets.WS_TOKEN_SECRET), hmac, false, ["sign", "verify"]);
  if (!secrets.ADMIN_TOKEN) return undefined;
  const base = await crypto.subtle.importKey("raw", encoder.encode(secrets.ADMIN_TOKEN), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(WS_TOKEN_INFO) },
    base,
    { ...hmac, length: 256 },
    false,
    ["sign", "verify"],
  );
}

/** Who minted a token: an API key's id (8 hex digits) or the admin token. */
const MINTER = /^(?:[0-9a-f]{8}|admin)$/;

/** A token for one property, valid WS_TOKEN_TTL_MS from `now`, naming the key that minted it. */
export async function signWsToken(
  key: CryptoKey,
  propertyId: string,
  now: number,
  minter = "admin",
): Promise<{ token: string; expires_at: number }> {
  if (!MINTER.test(minter)) throw new Error(`ws-token: ${minter} is not a key id or "admin"`);
  const expires = now + WS_TOKEN_TTL_MS;
  const payload = `${base64url(encoder.encode(propertyId))}.${expires}.${minter}`;
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload)));
  return { token: `${payload}.${base64url(signature)}`, expires_at: expires };
}

/** The minter of a token that is ours, unexpired and for this property; undefined for any other. */
export async function readWsToken(
  key: CryptoKey,
  token: string,
  propertyId: string,
  now: number,
): Promise<string | undefined> {
  const [id, expires, minter, signature, extra] = token.split(".");
  if (!id || !expires || !minter || !signature || extra !== undefined) return undefined;
  if (!/^\d{1,15}$/.test(expires) || Number(expires) < now || !MINTER.test(minter)) return undefined;
  if (id !== base64url(encoder.encode(propertyId))) return undefined;
  const mac = fromBase64url(signature);
  // subtle.verify compares in constant time.
  const ok =
    mac !== undefined && (await crypto.subtle.verify("HMAC", key, mac, encoder.encode(`${id}.${expires}.${minter}`)));
  return ok ? minter : undefined;
}

/** True when the token is ours, unexpired, and for this property. */
export async function verifyWsToken(key: CryptoKey, token: string, propertyId: string, now: number): Promise<boolean> {
  return (await readWsToken(key, token, propertyId, now)) !== undefined;
}
