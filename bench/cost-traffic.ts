/**
 * The traffic `npm run bench:cost` sends (issue #14): 1,000 properties whose volume follows a Zipf
 * law, visitors in 30-minute sessions, and requests of 1 event, of a realistic mix (60% 1 event,
 * 30% 2–5, 10% 6–20), or of 20. Pure and seeded, so two runs send the same requests.
 */
import { prng } from "../dev/prng.ts";

export const PROPERTIES = 1_000;
export type RequestSize = "1" | "mix" | "20";

export interface CostRequest {
  property: string;
  visitor: string;
  events: { property_id: string; client_id: string; event_type: string; page_url: string; event_timestamp: number }[];
}

export const propertyId = (i: number) => `UA-COST-${i + 1}`;

/** Cumulative Zipf(s) weights over the properties: property i gets traffic ∝ 1 / (i + 1)^s. */
function zipfCdf(n: number, s = 1.1): number[] {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  let acc = 0;
  return weights.map((w) => (acc += w / total));
}

function pick(cdf: readonly number[], u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cdf[mid] ?? 1) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function eventsPerRequest(size: RequestSize, rnd: () => number): number {
  if (size === "1") return 1;
  if (size === "20") return 20;
  const u = rnd();
  if (u < 0.6) return 1;
  if (u < 0.9) return 2 + Math.floor(rnd() * 4);
  return 6 + Math.floor(rnd() * 15);
}

/**
 * Requests carrying `totalEvents` events. A visitor's session spans up to 30 minutes before now;
 * each request is one visitor's next events on that property's pages, 0.1–1 s apart, its first
 * 1–21 s after the visitor's previous request.
 */
export function costTraffic(size: RequestSize, totalEvents: number, now: number, seed = 14): CostRequest[] {
  const rnd = prng(seed);
  const cdf = zipfCdf(PROPERTIES);
  const requests: CostRequest[] = [];
  const clock = new Map<string, number>();
  let sent = 0;
  while (sent < totalEvents) {
    const p = pick(cdf, rnd());
    // About 8 requests per visitor: visitors come back within their session.
    const visitor = `v${p}-${Math.floor(rnd() * Math.max(1, (totalEvents / PROPERTIES) * 0.125 * (1 + 50 / (p + 1))))}`;
    const n = Math.min(eventsPerRequest(size, rnd), totalEvents - sent);
    let t = clock.get(visitor) ?? now - 30 * 60_000 + Math.floor(rnd() * 20 * 60_000);
    // A visitor's requests come 1–21 s apart; a request's own events were batched by the tracker
    // within a second or so of each other.
    const events = Array.from({ length: n }, (_, i) => {
      t += i === 0 ? 1_000 + Math.floor(rnd() * 20_000) : 100 + Math.floor(rnd() * 900);
      return {
        property_id: propertyId(p),
        client_id: visitor,
        event_type: i === 0 || rnd() < 0.7 ? "pageview" : "click",
        page_url: `https://site${p}.example/page/${Math.floor(rnd() * 30)}`,
        event_timestamp: Math.min(t, now),
      };
    });
    clock.set(visitor, t);
    requests.push({ property: propertyId(p), visitor, events });
    sent += n;
  }
  return requests;
}
