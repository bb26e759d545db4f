/**
 * Our spec's ingestion limits, counted in events: 10K/min per IP and 200K/min per property, with
 * Cloudflare's Rate Limiting binding (per location, approximate). The binding counts calls, so a
 * request takes one token per event it carries.
 */
import { AppError } from "../../core/errors.ts";
import { countRefusal } from "./refusals.ts";

async function take(limiter: RateLimit, key: string, tokens: number): Promise<boolean> {
  const results = await Promise.all(Array.from({ length: tokens }, () => limiter.limit({ key })));
  return results.every((r) => r.success);
}

/** Throws 429 (with Retry-After) when the IP or any property is over its budget. */
export async function enforceRateLimits(
  env: Env,
  ip: string,
  eventsByProperty: ReadonlyMap<string, number>,
): Promise<void> {
  let total = 0;
  for (const n of eventsByProperty.values()) total += n;
  if (total === 0) return;
  if (ip && !(await take(env.IP_RATE_LIMITER, ip, total))) {
    for (const [id, n] of eventsByProperty) countRefusal(id, "rate_limited_ip", n);
    throw new AppError(
      "rate_limited",
      429,
      "too many events from this IP address (limit: 10,000 per minute); retry after 60 s",
    );
  }
  for (const [propertyId, n] of eventsByProperty) {
    if (!(await take(env.PROPERTY_RATE_LIMITER, propertyId, n))) {
      countRefusal(propertyId, "rate_limited_property", n);
      throw new AppError(
        "rate_limited",
        429,
        `too many events for property ${propertyId} (limit: 200,000 per minute); retry after 60 s`,
      );
    }
  }
}
