/**
 * GA4 Measurement Protocol credentials: `measurement_id` names the property, `api_secret` proves
 * the sender may write to it. Checks are remembered per isolate for a minute so each hit costs no
 * actor call; a secret without the shape of one costs none at all, and every wrong secret counts
 * against the address's failed authentications (platform/throttle.ts).
 */
import { isWellFormedMpSecret } from "../../core/abuse.ts";
import { AppError } from "../../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../../core/event.ts";
import { sha256Hex } from "../../core/hash.ts";
import type { PropertyConfig } from "../../core/property/property.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { credentialGate, lookupGuard } from "../../platform/throttle.ts";

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

/** Forgets this isolate's verdicts on a property's secrets (after a rotation; others expire within TTL_MS). */
export function forgetMpSecrets(propertyId: string): void {
  for (const key of verified.keys()) if (key.startsWith(`${propertyId}|`)) verified.delete(key);
}

/** The property a Measurement Protocol request may write to: 400, 404, 403, or 429 for an address guessing secrets. */
export async function mpProperty(env: Env, request: Request, url: URL): Promise<PropertyConfig> {
  const propertyId = url.searchParams.get("measurement_id");
  const secret = url.searchParams.get("api_secret");
  if (!propertyId || !secret) {
    const missing = propertyId ? "api_secret" : "measurement_id";
    throw new AppError("invalid_request", 400, `${missing}: query parameter is required`);
  }
  if (!PROPERTY_ID_PATTERN.test(propertyId))
    throw new AppError("invalid_request", 400, "measurement_id: must look like UA-12345-1 or a 3-64 character slug");
  const gate = await credentialGate(env, request);
  const wrongSecret = () => new AppError("forbidden", 403, `api_secret: is not valid for ${propertyId}`);
  if (!isWellFormedMpSecret(secret)) throw await gate.fail(wrongSecret());
  const config = await propertyConfig(env, propertyId, lookupGuard(env, request));
  if (!config || config.disabled)
    throw new AppError("property_not_found", 404, `measurement_id: property ${propertyId} does not exist`);
  if (!(await verifyMpSecret(env, propertyId, secret))) throw await gate.fail(wrongSecret());
  return config;
}
