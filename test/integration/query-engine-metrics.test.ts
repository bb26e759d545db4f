/**
 * The Plausible-parity metrics (issue #15) and `visit:visitor_type` against the real ClickHouse
 * engine, on a hand-built property whose every figure is computed below by hand: revenue per
 * currency, time on page, scroll depth, percentage, exit rate, conversion rate against group
 * conversion rate, and new / returning visits.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { type GoalRef, normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import type { Plan } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { replay } from "../../dev/fixtures/dataset.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { freshDatabase } from "../support/clickhouse.ts";
import { at, DAY, insert, NOW, raw, runQuery } from "./query-engine-support.ts";

let client: ClickHouseClient;
const P = "UA-METRICS-1";
const GOALS: GoalRef[] = [{ name: "Purchase", kind: "event", event_name: "purchase" }];

const e = (client_id: string, id: string, t: number, o: Partial<Event> = {}) =>
  makeEvent({ property_id: P, client_id, event_id: id, event_timestamp: t, ...o });
const engage = (page: string, metrics: Record<string, number>): Partial<Event> => ({
  event_type: "engagement",
  page_path: page,
  custom_metrics: metrics,
});
const buy = (type: string, page: string, revenue: number, currency?: string): Partial<Event> => ({
  event_type: type,
  page_path: page,
  custom_metrics: { revenue },
  ...(currency ? { custom_dimensions: { currency } } : {}),
});

function resolve(spec: Partial<QuerySpecInput>, propertyCurrency = "USD"): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({ property_id: P, date_range: ["2026-11-20", "2026-11-22"], ...spec });
  return normaliseQuery(parsed, {
    propertyTimezone: "UTC",
    createdAt: DAY - 86_400_000 * 60,
    now: NOW,
    goals: GOALS,
    propertyCurrency,
  });
}
const run = (q: ResolvedQuery, force?: (p: Plan) => Plan) => runQuery(client, q, force);
const mobile = { device_type: "mobile" } as const;

beforeAll(async () => {
  ({ client } = await freshDatabase("qmetrics"));
  // r: a visit on 2026-11-10 (before the range), then one on the 20th: returning. Desktop.
  //    / (engaged 30 s, scrolled 40%) → /pricing (60 s, 80%), buys 100 USD.
  // n: one visit, new. Desktop. / engaged twice on the same view (10 s at 100%, 20 s at 60%);
  //    buys 50 with no currency (the property's USD), tips 20 "eur".
  // m: two visits (4 h apart), the first new, the second returning. Mobile.
  //    /pricing engaged 90 s at 50% (sent as Plausible's engaged_ms); later / and a 30 "usd" tip.
  await insert(
    client,
    replay([
      e("r", "r0", Date.UTC(2026, 10, 10, 10)),
      e("r", "r1", at(9)),
      e("r", "r2", at(9, 2), engage("/", { engagement_ms: 30_000, scroll_depth: 40 })),
      e("r", "r3", at(9, 3), { page_path: "/pricing" }),
      e("r", "r4", at(9, 5), engage("/pricing", { engagement_ms: 60_000, scroll_depth: 80 })),
      e("r", "r5", at(9, 6), buy("purchase", "/pricing", 100, "USD")),
      e("n", "n1", at(10)),
      e("n", "n2", at(10, 1), engage("/", { engagement_ms: 10_000, scroll_depth: 100 })),
      e("n", "n3", at(10, 3), engage("/", { engagement_ms: 20_000, scroll_depth: 60 })),
      e("n", "n4", at(10, 4), buy("purchase", "/", 50)),
      e("n", "n5", at(10, 5), buy("tip", "/", 20, "eur")),
      e("m", "m1", at(11), { page_path: "/pricing", ...mobile }),
      e("m", "m2", at(11, 1), { ...engage("/pricing", { engaged_ms: 90_000, scroll_depth: 50 }), ...mobile }),
      e("m", "m3", at(15), mobile),
      e("m", "m4", at(15, 1), { ...buy("tip", "/", 30, "usd"), ...mobile }),
    ]),
  );
}, 120_000);

describe("revenue, per currency", () => {
  it("sums the property's currency (untagged revenue included) and lists the others", async () => {
    const r = await run(resolve({ metrics: ["total_revenue", "average_revenue"] }));
    // USD: r5 100 + n4 50 (untagged) + m4 30 ("usd") = 180 over 3 events; EUR 20 left out.
    expect(r.results).toEqual([{ dimensions: [], metrics: [180, 60] }]);
    expect(r.other_currencies).toEqual(["EUR"]);
    expect(r.plan.reason).toMatch(/events: raw \(total_revenue needs raw events\)/);
  });

  it("sums another currency when the query names it", async () => {
    const q = resolve({ metrics: ["total_revenue", "average_revenue"], include: { currency: "EUR" } });
    expect(q.include.currency).toBe("EUR");
    const r = await run(q);
    expect(r.results[0]?.metrics).toEqual([20, 20]);
    expect(r.other_currencies).toEqual(["USD"]);
  });

  it("counts only conversions with a goal filter, and breaks down by page", async () => {
    const goal = await run(
      resolve({ metrics: ["total_revenue", "average_revenue"], filters: [["is", "event:goal", ["Purchase"]]] }),
    );
    expect(goal.results[0]?.metrics).toEqual([150, 75]);
    expect(goal.other_currencies).toEqual([]);
    // By entry page: visits from sessions, revenue from their events. r, n, m#2 entered on /.
    const entries = await run(resolve({ metrics: ["visits", "total_revenue"], dimensions: ["visit:entry_page"] }));
    expect(entries.plan.legs.map((l) => [l.side, l.joinSessions])).toEqual([
      ["sessions", false],
      ["events", true],
    ]);
    expect(entries.results).toEqual([
      { dimensions: ["/"], metrics: [3, 180] },
      { dimensions: ["/pricing"], metrics: [1, 0] },
    ]);
    const pages = await run(resolve({ metrics: ["total_revenue"], dimensions: ["event:page"] }));
    expect(pages.results).toEqual([
      { dimensions: ["/pricing"], metrics: [100] },
      { dimensions: ["/"], metrics: [80] },
    ]);
  });
});

describe("engagement: time on page and scroll depth", () => {
  it("per page: engaged seconds per visit, each visit's deepest scroll averaged", async () => {
    const r = await run(
      resolve({
        metrics: ["time_on_page", "scroll_depth"],
        dimensions: ["event:page"],
        order_by: [["event:page", "asc"]],
      }),
    );
    // /: r 30 s, n 10 + 20 s → 60 s over 2 visits; scroll r 40, n max(100, 60) → 70.
    // /pricing: r 60 s, m 90 s (engaged_ms) → 75 s; scroll 80 and 50 → 65.
    expect(r.results).toEqual([
      { dimensions: ["/"], metrics: [30, 70] },
      { dimensions: ["/pricing"], metrics: [75, 65] },
    ]);
    expect(r.plan.legs.map((l) => l.table)).toEqual(["events"]);
  });

  it("with a page filter instead of a dimension", async () => {
    const r = await run(
      resolve({ metrics: ["time_on_page", "scroll_depth"], filters: [["is", "event:page", ["/pricing"]]] }),
    );
    expect(r.results[0]?.metrics).toEqual([75, 65]);
  });
});

describe("shares and rates", () => {
  it("percentage: each row's share of all visitors", async () => {
    const q = resolve({ metrics: ["visitors", "percentage"], dimensions: ["visit:device"] });
    const r = await run(q);
    expect(r.results).toEqual([
      { dimensions: ["desktop"], metrics: [2, 0.6667] },
      { dimensions: ["mobile"], metrics: [1, 0.3333] },
    ]);
    expect((await run(q, raw)).results).toEqual(r.results);
    // A gap-filled series: each day's share of the range's visitors.
    const days = await run(resolve({ metrics: ["visitors", "percentage"], dimensions: ["time:day"] }));
    expect(days.results).toEqual([
      { dimensions: ["2026-11-20"], metrics: [3, 1] },
      { dimensions: ["2026-11-21"], metrics: [0, 0] },
      { dimensions: ["2026-11-22"], metrics: [0, 0] },
    ]);
  });

  it("exit rate: exits over the exit page's pageviews, under visit filters", async () => {
    const q = resolve({ metrics: ["visits", "exit_rate"], dimensions: ["visit:exit_page"] });
    const r = await run(q);
    // Exits: / n, m#2; /pricing r, m#1. Pageviews: / r1 n1 m3; /pricing r3 m1.
    expect(r.results).toEqual([
      { dimensions: ["/"], metrics: [2, 0.6667] },
      { dimensions: ["/pricing"], metrics: [2, 1] },
    ]);
    expect((await run(q, raw)).results).toEqual(r.results);
    const desktop = await run(
      resolve({
        metrics: ["exit_rate"],
        dimensions: ["visit:exit_page"],
        filters: [["is", "visit:device", ["desktop"]]],
      }),
    );
    expect(desktop.results).toEqual([
      { dimensions: ["/pricing"], metrics: [1] },
      { dimensions: ["/"], metrics: [0.5] },
    ]);
  });

  it("conversion rate divides by all visitors, group conversion rate by the row's", async () => {
    const r = await run(
      resolve({
        metrics: ["visitors", "conversion_rate", "group_conversion_rate"],
        dimensions: ["visit:device"],
        filters: [["is", "event:goal", ["Purchase"]]],
      }),
    );
    // Purchasers r, n (desktop); 3 visitors in all, 2 on desktop, 1 on mobile.
    expect(r.results).toEqual([
      { dimensions: ["desktop"], metrics: [2, 0.6667, 1] },
      { dimensions: ["mobile"], metrics: [0, 0, 0] },
    ]);
    const total = await run(
      resolve({ metrics: ["conversion_rate", "group_conversion_rate"], filters: [["is", "event:goal", ["Purchase"]]] }),
    );
    expect(total.results[0]?.metrics).toEqual([0.6667, 0.6667]);
  });
});

describe("visit:visitor_type", () => {
  it("a visit is returning when its visitor had an earlier session, even before the range", async () => {
    const r = await run(resolve({ metrics: ["visits", "visitors", "pageviews"], dimensions: ["visit:visitor_type"] }));
    // new: n, m#1 (pageviews n1, m1); returning: r (r had 2026-11-10), m#2 (r1 r3 m3).
    expect(r.results).toEqual([
      { dimensions: ["new"], metrics: [2, 2, 2] },
      { dimensions: ["returning"], metrics: [2, 2, 3] },
    ]);
    expect(r.plan.reason).toMatch(/visit:visitor_type is not a rollup dimension/);
  });

  it("as a filter on event metrics, and next to an event dimension", async () => {
    const fresh = await run(
      resolve({ metrics: ["pageviews", "events"], filters: [["is", "visit:visitor_type", ["new"]]] }),
    );
    // n's five events and m#1's two; pageviews n1, m1.
    expect(fresh.results[0]?.metrics).toEqual([2, 7]);
    const pages = await run(
      resolve({
        metrics: ["pageviews"],
        dimensions: ["event:page", "visit:visitor_type"],
        order_by: [["event:page", "asc"]],
      }),
    );
    expect(pages.results).toEqual([
      { dimensions: ["/", "new"], metrics: [1] },
      { dimensions: ["/", "returning"], metrics: [2] },
      { dimensions: ["/pricing", "new"], metrics: [1] },
      { dimensions: ["/pricing", "returning"], metrics: [1] },
    ]);
  });
});
