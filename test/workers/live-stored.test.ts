/**
 * Live = stored (issue #15): for the last 30 minutes, the PropertyDO's minute windows (the realtime
 * snapshot, and the `realtime` preset of /api/v1/query) and ClickHouse (/api/v1/query over the same
 * minutes as explicit times, which the planner sends to ClickHouse) agree on pageviews exactly and
 * on visitors within the sketches' error. The traffic goes through the real consumer: many visitors
 * over several pages and minutes, custom events, a bot, a repeated event and a visitor seen twice.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import type { RealtimeSnapshot } from "../../core/session/realtime.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { QueryResponse } from "../../workers/query/run.ts";
import { type CreatedProperty, call, consumeMessage, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const MINUTE = 60_000;
const PAGES = ["/", "/pricing", "/docs", "/blog", "/about"];
const VISITORS = 400;
let p: CreatedProperty;
let now: number;
let truth: { pageviews: number; visitors: number; pages: Map<string, number> };

/** Deterministic traffic: visitor i makes 1–4 pageviews a minute or two apart, some a custom event. */
function traffic(property: string, at: number): Event[] {
  const events: Event[] = [];
  for (let i = 0; i < VISITORS; i++) {
    // From 27 to 7 minutes ago, so the last pageview (4.5 minutes on) is still in the past.
    const start = at - (7 + ((i * 7) % 20)) * MINUTE - ((i * 13) % 60) * 1000;
    for (let k = 0; k < 1 + (i % 4); k++)
      events.push(
        makeEvent({
          property_id: property,
          event_id: `${run}-${i}-${k}`,
          client_id: `${run}-v${i}`,
          event_timestamp: start + k * 90_000,
          page_path: PAGES[(i + k) % PAGES.length] ?? "/",
          page_url: `https://example.com${PAGES[(i + k) % PAGES.length]}`,
        }),
      );
    if (i % 5 === 0)
      events.push(
        makeEvent({
          property_id: property,
          event_id: `${run}-${i}-signup`,
          client_id: `${run}-v${i}`,
          event_type: "signup",
          event_timestamp: start + 30_000,
        }),
      );
  }
  return events;
}

const auth = () => ({ Authorization: `Bearer ${p.api_key}` });

async function query(spec: Record<string, unknown>): Promise<QueryResponse> {
  const res = await call("/api/v1/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", "Cache-Control": "no-cache", ...auth() },
    body: JSON.stringify({ property_id: p.property_id, ...spec }),
  });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${await res.text()}`);
  return res.json<QueryResponse>();
}

/** The realtime snapshot's 30 minutes: the current minute and the 29 before it. */
function last30(at: number): [string, string] {
  const current = Math.floor(at / MINUTE) * MINUTE;
  // Ending past now + 1 minute keeps the planner off the live leg; no event is in the future.
  return [new Date(current - 29 * MINUTE).toISOString(), new Date(current + 2 * MINUTE).toISOString()];
}

/** visitors and pageviews of a totals query. */
const totals = (r: QueryResponse) => (r.results[0]?.metrics ?? []) as [number, number, number?];

/** HyperLogLog at precision 14 (0.81%) against ClickHouse's count: allow three standard errors. */
const sketchError = (n: number) => Math.max(1, Math.ceil(3 * 0.0081 * n));

beforeAll(async () => {
  p = await createProperty({ property_id: `LS-${run}` });
  now = Date.now();
  const events = traffic(p.property_id, now);
  const bot = makeEvent({
    property_id: p.property_id,
    event_id: `${run}-bot`,
    client_id: `${run}-bot`,
    event_timestamp: now - 3 * MINUTE,
    is_bot: true,
    bot_reason: "headless",
  });
  // In three deliveries, as the queue would; the last repeats an event of the first (a client retry).
  const third = Math.ceil(events.length / 3);
  await consumeMessage(`${run}-m1`, events.slice(0, third));
  await consumeMessage(`${run}-m2`, [...events.slice(third, 2 * third), bot]);
  await consumeMessage(`${run}-m3`, [...events.slice(2 * third), events[0] as Event]);
  const pageviews = events.filter((e) => e.event_type === "pageview");
  const pages = new Map<string, number>();
  for (const e of pageviews) pages.set(e.page_path, (pages.get(e.page_path) ?? 0) + 1);
  truth = { pageviews: pageviews.length, visitors: VISITORS, pages };
}, 60_000);

describe("the last 30 minutes, live and stored", () => {
  it("the realtime snapshot and ClickHouse agree on pageviews exactly and visitors within the sketch error", async () => {
    const res = await call(`/api/v1/realtime?property=${p.property_id}`, { headers: auth() });
    expect(res.status).toBe(200);
    const live = await res.json<RealtimeSnapshot>();
    const stored = await query({ metrics: ["visitors", "pageviews"], date_range: last30(Date.now()) });
    expect(stored.meta.source).toBe("clickhouse");
    const [visitors, pageviews] = totals(stored);
    expect(pageviews).toBe(truth.pageviews);
    expect(live.pageviews_last_30m).toBe(pageviews);
    expect(Math.abs(visitors - truth.visitors)).toBeLessThanOrEqual(sketchError(truth.visitors));
    expect(Math.abs(live.visitors_last_30m - visitors)).toBeLessThanOrEqual(sketchError(visitors));
  });

  it("the query API's live leg (the realtime preset) agrees with its ClickHouse leg", async () => {
    const live = await query({ metrics: ["visitors", "pageviews", "visits"], date_range: "realtime" });
    expect(live.meta.source).toBe("live");
    const stored = await query({ metrics: ["visitors", "pageviews", "visits"], date_range: last30(Date.now()) });
    expect(live.results[0]?.metrics[2]).toBe(stored.results[0]?.metrics[2]);
    const [liveVisitors, livePageviews] = totals(live);
    const [visitors, pageviews] = totals(stored);
    expect(livePageviews).toBe(pageviews);
    expect(Math.abs(liveVisitors - visitors)).toBeLessThanOrEqual(sketchError(visitors));
  });

  it("pageviews per page agree between the realtime top pages and ClickHouse", async () => {
    const live = await (
      await call(`/api/v1/realtime?property=${p.property_id}`, { headers: auth() })
    ).json<RealtimeSnapshot>();
    const stored = await query({ metrics: ["pageviews"], dimensions: ["event:page"], date_range: last30(Date.now()) });
    const byPage = Object.fromEntries(stored.results.map((r) => [r.dimensions[0], r.metrics[0]]));
    expect(byPage).toEqual(Object.fromEntries(truth.pages));
    expect(Object.fromEntries(live.top_pages.map((r) => [r.page, r.pageviews]))).toEqual(byPage);
  });

  it("the realtime preset's page breakdown agrees with ClickHouse's", async () => {
    const live = await query({ metrics: ["pageviews"], dimensions: ["event:page"], date_range: "realtime" });
    expect(live.meta.source).toBe("live");
    const byPage = Object.fromEntries(live.results.map((r) => [r.dimensions[0], r.metrics[0]]));
    expect(byPage).toEqual(Object.fromEntries(truth.pages));
  });
});
