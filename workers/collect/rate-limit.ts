/**
 * Our spec's ingestion limits, counted in events: 10K/min per IP and 200K/min per property, with
 * Cloudflare's Rate Limiting binding (per location, approximate by design).
 *
 * The binding counts calls, and each call costs about as much as the rest of a request (measured
 * locally: ~0.4 ms), so events are bought in tokens: an isolate carries a running count per key
 * and draws one token per IP_TOKEN_EVENTS (or PROPERTY_TOKEN_EVENTS) events. wrangler.toml's limits
 * are in tokens (100 × 100 = 10,000 events; 400 × 500 = 200,000). The error is below one token
 * per isolate and key. The binding never sees an IP: it counts the address's salted hash
 * (platform/throttle.ts), computed only when a token is drawn.
 */
import { AppError } from "../../core/errors.ts";
import { IP_TOKEN_EVENTS, PROPERTY_TOKEN_EVENTS } from "../../core/ingest/rate-limits.ts";
import { addressKey } from "../../platform/throttle.ts";
import { alreadyCounted, countRateLimited } from "./metrics.ts";
import { countRefusal } from "./refusals.ts";

const MAX_KEYS = 50_000;

const carried = new Map<string, number>();

/**
 * Adds events to the key's running count and draws whole tokens (counted under `limiterKey` when
 * given); false when the binding refuses one.
 */
function take(
  limiter: RateLimit,
  key: string,
  events: number,
  unit: number,
  limiterKey?: () => Promise<string>,
): boolean | Promise<boolean> {
  if (carried.size > MAX_KEYS) carried.clear();
  const total = (carried.get(key) ?? 0) + events;
  const tokens = Math.floor(total / unit);
  carried.set(key, total - tokens * unit);
  // Most requests draw no token: answer without a promise, so they pay no await.
  if (tokens === 0) return true;
  return (limiterKey ? limiterKey() : Promise.resolve(key))
    .then((k) => Promise.all(Array.from({ length: tokens }, () => limiter.limit({ key: k }))))
    .then((rs) => rs.every((r) => r.success));
}

const ipRefusal = () =>
  new AppError(
    "rate_limited",
    429,
    "too many events from this IP address (limit: 10,000 per minute); retry after 60 s",
  );
const propertyRefusal = (id: string) =>
  new AppError("rate_limited", 429, `too many events for property ${id} (limit: 200,000 per minute); retry after 60 s`);

/** Throws 429 (with Retry-After) when the IP or any property is over its budget; no await unless a token is drawn. */
export async function enforceRateLimits(
  env: Env,
  ip: string,
  eventsByProperty: ReadonlyMap<string, number>,
): Promise<void> {
  let total = 0;
  for (const n of eventsByProperty.values()) total += n;
  if (total === 0) return;
  if (ip) {
    const taken = take(env.IP_RATE_LIMITER, `ip:${ip}`, total, IP_TOKEN_EVENTS, () => addressKey(env, ip));
    if (!(taken === true || (taken !== false && (await taken)))) {
      for (const [id, n] of eventsByProperty) countRefusal(id, "rate_limited_ip", n);
      countRateLimited("ip", total);
      throw alreadyCounted(ipRefusal());
    }
  }
  for (const [propertyId, n] of eventsByProperty) {
    const taken = take(env.PROPERTY_RATE_LIMITER, `property:${propertyId}`, n, PROPERTY_TOKEN_EVENTS);
    if (!(taken === true || (taken !== false && (await taken)))) {
      countRefusal(propertyId, "rate_limited_property", n);
      countRateLimited("property", n);
      throw alreadyCounted(propertyRefusal(propertyId));
    }
  }
}
