/**
 * Short-lived signed tokens for browser WebSockets (browsers cannot set headers on them): a key
 * holder asks for one, then opens `/ws/realtime?token=…` within a minute. HMAC-SHA256 over
 * `property.expiry`; nothing is stored.
 */
const encoder = new TextEncoder();

function b64url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

async function mac(secret: string, payload: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(`tally-ws-token:${secret}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return b64url(new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(payload))));
}

export const WS_TOKEN_TTL_MS = 60_000;

export async function signWsToken(
  secret: string,
  propertyId: string,
  now: number,
): Promise<{ token: string; expires_at: number }> {
  const expires = now + WS_TOKEN_TTL_MS;
  const payload = `${b64url(encoder.encode(propertyId))}.${expires}`;
  return { token: `${payload}.${await mac(secret, payload)}`, expires_at: expires };
}

/** True when the token is ours, unexpired, and for this property. */
export async function verifyWsToken(secret: string, token: string, propertyId: string, now: number): Promise<boolean> {
  const [id, expires, signature] = token.split(".");
  if (!id || !expires || !signature || Number(expires) < now) return false;
  if (id !== b64url(encoder.encode(propertyId))) return false;
  const expected = await mac(secret, `${id}.${expires}`);
  if (expected.length !== signature.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ signature.charCodeAt(i);
  return diff === 0;
}
