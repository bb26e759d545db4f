/**
 * Unsubscribe links without storage: the token is an HMAC-SHA-256 over `property_id.digest_id`, so
 * a link works for exactly one digest of one property, for as long as that digest exists (deleting
 * it is idempotent, and a new digest gets a new id). It never expires: mail is read late, and an
 * unsubscribe link that stopped working would be worse than one that works forever.
 *
 * The key is derived by HKDF, with an info of its own, from WS_TOKEN_SECRET when set, else from
 * ADMIN_TOKEN (as core/property/ws-token.ts does for its tokens): never the secret itself, and never
 * the same key as another token's, so a signature made for one use cannot be replayed as another.
 */
import { base64url, fromBase64url } from "../base64.ts";

const encoder = new TextEncoder();

/** HKDF's `info`: this key signs unsubscribe links and nothing else; a new format gets a new version. */
export const UNSUBSCRIBE_INFO = "tally digest-unsubscribe v1";

/** The links' HMAC key; undefined when both secrets are empty (no link can be made or checked). */
export async function unsubscribeKey(secrets: {
  ADMIN_TOKEN: string;
  WS_TOKEN_SECRET: string;
}): Promise<CryptoKey | undefined> {
  const secret = secrets.WS_TOKEN_SECRET || secrets.ADMIN_TOKEN;
  if (!secret) return undefined;
  const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode(UNSUBSCRIBE_INFO) },
    base,
    { name: "HMAC", hash: "SHA-256", length: 256 },
    false,
    ["sign", "verify"],
  );
}

// Property ids may hold dots; digest ids may not, so the last "." splits a payload one way only and
// no two (property, digest) pairs sign the same bytes.
const payload = (propertyId: string, digestId: string) => encoder.encode(`${propertyId}.${digestId}`);

/** The token of one digest's unsubscribe link (43 base64url characters). */
export async function signUnsubscribe(key: CryptoKey, propertyId: string, digestId: string): Promise<string> {
  if (digestId.includes(".")) throw new Error(`unsubscribe: digest id ${digestId} holds a "."`);
  return base64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, payload(propertyId, digestId))));
}

/** True when `token` is this digest's; compared in constant time (subtle.verify). */
export async function verifyUnsubscribe(
  key: CryptoKey,
  propertyId: string,
  digestId: string,
  token: string,
): Promise<boolean> {
  if (digestId.includes(".") || token.length > 64) return false;
  const mac = fromBase64url(token);
  if (!mac) return false;
  return crypto.subtle.verify("HMAC", key, mac, payload(propertyId, digestId));
}

/** `${origin}/api/v1/digests/unsubscribe?property_id=…&digest_id=…&token=…` */
export function unsubscribeUrl(origin: string, propertyId: string, digestId: string, token: string): string {
  const url = new URL("/api/v1/digests/unsubscribe", origin);
  url.search = new URLSearchParams({ property_id: propertyId, digest_id: digestId, token }).toString();
  return url.toString();
}
