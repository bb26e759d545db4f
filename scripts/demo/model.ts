/**
 * The demo's visitors, visits and history as data: who visits, from where, on what, and which
 * pages and events a visit makes, drawn from the weighted tables in tables.ts. Pure and seeded;
 * scripts/demo/traffic.ts sends it.
 */
import { prng } from "../../dev/prng.ts";
import { ARRIVALS, BOT_AGENTS, DEVICES, HOUR_WEIGHTS, NEXT, PLACES, PLANS, PRICES, SITE, TITLES } from "./tables.ts";

export type Rand = () => number;

/** Seeded, so demo data repeats run to run. */
export const seeded = (seed: number): Rand => prng(seed);

function pick<T extends { weight: number }>(rand: Rand, items: readonly T[]): T {
  const total = items.reduce((n, i) => n + i.weight, 0);
  let r = rand() * total;
  for (const item of items) {
    r -= item.weight;
    if (r <= 0) return item;
  }
  return items[items.length - 1] as T;
}
export const oneOf = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)] as T;

export interface Visitor {
  id: string;
  device: (typeof DEVICES)[number];
  country: string;
  region: string;
  city: string;
  language: string;
}

/** One event as /collect and import take it (import also reads country/region/city). */
export interface DemoEvent {
  event_type: string;
  page_url: string;
  client_id: string;
  event_timestamp: string;
  user_agent: string;
  page_title?: string;
  referrer?: string;
  screen_resolution?: string;
  language?: string;
  custom_dimensions?: Record<string, string>;
  custom_metrics?: Record<string, number>;
  country?: string;
  region?: string;
  city?: string;
}

export function newVisitor(rand: Rand): Visitor {
  const place = pick(rand, PLACES);
  const [region, city] = oneOf(rand, place.places);
  return {
    id: `demo-${Math.floor(rand() * 2 ** 48).toString(36)}`,
    device: pick(rand, DEVICES),
    country: place.country,
    region,
    city,
    language: place.language,
  };
}

/** The events of one visit starting at `start` (ms): an arrival, a walk through the site, a few custom events. */
export function visitEvents(rand: Rand, visitor: Visitor, start: number, withGeo: boolean): DemoEvent[] {
  const arrival = pick(rand, ARRIVALS);
  const base = {
    client_id: visitor.id,
    user_agent: visitor.device.ua,
    screen_resolution: visitor.device.screen,
    language: visitor.language,
    ...(withGeo ? { country: visitor.country, region: visitor.region, city: visitor.city } : {}),
  };
  const events: DemoEvent[] = [];
  let path = oneOf(rand, arrival.entries);
  let at = start;
  const views = rand() < 0.42 ? 1 : 2 + Math.floor(rand() * 5);
  for (let i = 0; i < views; i++) {
    const url = `${SITE}${path}${i === 0 && arrival.query ? `?${arrival.query}` : ""}`;
    const time = new Date(at).toISOString();
    events.push({
      ...base,
      event_type: "pageview",
      page_url: url,
      page_title: TITLES[path] ?? "Tally",
      event_timestamp: time,
      ...(i === 0 && arrival.referrer ? { referrer: arrival.referrer } : {}),
    });
    const custom = (event_type: string, props: Record<string, string>, metrics?: Record<string, number>) =>
      events.push({
        ...base,
        event_type,
        page_url: `${SITE}${path}`,
        event_timestamp: new Date(at + 5_000 + Math.floor(rand() * 20_000)).toISOString(),
        custom_dimensions: props,
        ...(metrics ? { custom_metrics: metrics } : {}),
      });
    if (path === "/pricing" && rand() < 0.3)
      custom("cta_click", { location: oneOf(rand, ["pricing", "hero", "footer"]) });
    if (path === "/signup" && rand() < 0.55) {
      const { plan } = pick(rand, PLANS);
      custom("signup", { plan });
      // Paid plans are bought at once: revenue for the Purchase goal (the property's currency).
      const price = PRICES[plan];
      if (price) custom("purchase", { plan, currency: "USD" }, { revenue: price });
    }
    if (path.startsWith("/docs/") && rand() < 0.12)
      custom("download", { file: oneOf(rand, ["tally-sdk.zip", "tally-cli.tar.gz"]) });
    if (path.startsWith("/blog/") && rand() < 0.08) custom("outbound_link", { url: "https://github.com/tally/tally" });
    const gap = 20_000 + Math.floor(rand() * 160_000);
    // The tracker's engagement ping on leaving the page: visible time and deepest scroll (longer pages read deeper).
    const engaged = Math.min(gap - 1_000, 4_000 + Math.floor(rand() * (path.startsWith("/docs/") ? 150_000 : 60_000)));
    events.push({
      ...base,
      event_type: "engagement",
      page_url: `${SITE}${path}`,
      event_timestamp: new Date(at + engaged).toISOString(),
      custom_metrics: { engagement_ms: engaged, scroll_depth: Math.min(100, 25 + Math.floor(rand() * 80)) },
    });
    at += gap;
    path = oneOf(rand, NEXT[path] ?? ["/"]);
  }
  return events;
}

/** History as NDJSON lines for import: `days` days ending `endMs`, a weekly rhythm, growth, returning visitors, a few bots. */
export function historyLines(options: { days: number; visitsPerDay: number; endMs: number; seed?: number }): string[] {
  const rand = seeded(options.seed ?? 42);
  const returning: Visitor[] = [];
  const lines: string[] = [];
  const DAY = 86_400_000;
  const firstDay = Math.floor(options.endMs / DAY) * DAY - (options.days - 1) * DAY;
  for (let d = 0; d < options.days; d++) {
    const dayStart = firstDay + d * DAY;
    const weekday = new Date(dayStart).getUTCDay();
    const rhythm = weekday === 0 || weekday === 6 ? 0.6 : 1;
    const growth = 0.7 + (0.3 * d) / Math.max(1, options.days - 1);
    const visits = Math.round(options.visitsPerDay * rhythm * growth * (0.85 + rand() * 0.3));
    for (let v = 0; v < visits; v++) {
      const hour = pick(
        rand,
        HOUR_WEIGHTS.map((weight, h) => ({ weight, h })),
      ).h;
      const start = dayStart + hour * 3_600_000 + Math.floor(rand() * 3_600_000);
      if (start >= options.endMs) continue;
      const back = returning.length > 20 && rand() < 0.3;
      const visitor = back ? oneOf(rand, returning) : newVisitor(rand);
      if (!back && rand() < 0.5) returning.push(visitor);
      for (const e of visitEvents(rand, visitor, start, true))
        if (Date.parse(e.event_timestamp) < options.endMs) lines.push(JSON.stringify(e));
    }
    for (let b = 0; b < Math.round(visits * 0.04); b++) {
      const at = dayStart + Math.floor(rand() * DAY);
      if (at >= options.endMs) continue;
      lines.push(
        JSON.stringify({
          event_type: "pageview",
          page_url: `${SITE}${oneOf(rand, Object.keys(TITLES))}`,
          client_id: `bot-${Math.floor(rand() * 1e9).toString(36)}`,
          event_timestamp: new Date(at).toISOString(),
          user_agent: oneOf(rand, BOT_AGENTS),
          country: "US",
        }),
      );
    }
  }
  return lines;
}
