/** GA4 api_secret checks, remembered per isolate for a minute so each hit costs no actor call. */
import { sha256Hex } from "../../core/hash.ts";
import { propertyStub } from "../../platform/properties.ts";

const TTL_MS = 60_000;
const verified = new Map<string, { ok: boolean; expires: number }>();

export async function verifyMpSecret(env: Env, propertyId: string, secret: string, now = Date.now()): Promise<boolean> {
  const key = `${propertyId}|${await sha256Hex(secret)}`;
  const hit = verified.get(key);
  if (hit && hit.expires > now) return hit.ok;
  const ok = await propertyStub(env, propertyId).verifyMpSecret(secret);
  if (verified.size > 10_000) verified.clear();
  verified.set(key, { ok, expires: now + TTL_MS });
  return ok;
}
