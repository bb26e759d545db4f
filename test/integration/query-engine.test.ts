/**
 * The query engine (normalise → plan → SQL → shape) against the real ClickHouse engine, on data
 * the session reducer produced: exact figures on a hand-built property, and for a dataset of
 * hundreds of visitors, the rollups answering exactly what the raw tables answer.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { type GoalRef, normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { shapeRows } from "../../core/query/shape.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { generateDataset, replay } from "../../dev/fixtures/dataset.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const NOW = Date.UTC(2026, 10, 26, 12, 0);
const DAY = Date.UTC(2026, 10, 20);
const GOALS: GoalRef[] = [
  { name: "Signup", kind: "event", event_name: "signup" },
  { name: "Blog", kind: "page", page_path: "/blog/**" },
];
let client: ClickHouseClient;

async function insert(data: { events: unknown[]; sessionLog: unknown[] }) {
  await client.insert({ table: "events", values: data.events, format: "JSONEachRow" });
  await client.insert({ table: "session_log", values: data.sessionLog, format: "JSONEachRow" });
}

function resolve(spec: Partial<QuerySpecInput>, property = "UA-EXACT-1"): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({
    property_id: property,
    metrics: ["visitors"],
    date_range: ["2026-11-20", "2026-11-22"],
    ...spec,
  });
  return normaliseQuery(parsed, { propertyTimezone: "UTC", createdAt: DAY - 86_400_000 * 30, now: NOW, goals: GOALS });
}

/** The raw plan: every leg on `events`/`sessions`, whatever the planner would pick. */
const raw = (plan: Plan): Plan => ({
  ...plan,
  legs: plan.legs.map((l) => ({ ...l, table: l.side, rollupDimension: null })),
});

async function run(q: ResolvedQuery, force?: (p: Plan) => Plan) {
  const planned = planQuery(q, NOW, 90);
  const plan = force ? force(planned) : planned;
  const built = buildQuerySql(q, plan);
  const result = await rows<Record<string, unknown>>(client, built.sql, built.params);
  return { plan, ...shapeRows(q, result, built.gapFill === null) };
}

const at = (h: number, m = 0) => DAY + h * 3_600_000 + m * 60_000;
const ev = (client_id: string, id: string, t: number, o: Partial<Event> = {}) =>
  makeEvent({ property_id: "UA-EXACT-1", client_id, event_id: id, event_timestamp: t, ...o });

beforeAll(async () => {
  ({ client } = await freshDatabase("query"));
  // UA-EXACT-1: figures known by hand.
  // a: one visit, /, /pricing (2 pageviews, 5 min) from Google on mobile; later, a signup.
  // b: one bounce on /blog/launch, desktop, direct.
  // c: two visits (3 h apart): / then bounce; second: /blog/x, /blog/y (1 min).
  // bot: one pageview, flagged.
  await insert(
    replay([
      ev("a", "a1", at(9), {
        source: "Google",
        channel: "Organic Search",
        referrer_host: "google.com",
        device_type: "mobile",
      }),
      ev("a", "a2", at(9, 5), { page_path: "/pricing", device_type: "mobile" }),
      ev("a", "a3", at(9, 6), { event_type: "signup", device_type: "mobile", custom_dimensions: { plan: "pro" } }),
      ev("b", "b1", at(10), { page_path: "/blog/launch" }),
      ev("c", "c1", at(11)),
      ev("c", "c2", at(14), { page_path: "/blog/x" }),
      ev("c", "c3", at(14, 1), { page_path: "/blog/y" }),
      ev("bot", "x1", at(12), { is_bot: true, bot_reason: "ua_crawler" }),
    ]),
  );
  // Another property with the same visitor ids: never counted above.
  await insert(replay([ev("a", "o1", at(9), { property_id: "UA-OTHER-1" })]));
  await insert(generateDataset({ property_id: "UA-GEN-1", start: DAY, days: 3, visitors: 3000, seed: 7 }));
}, 120_000);

describe("exact figures", () => {
  it("totals: visitors, visits, pageviews, events, bounce rate, duration, views per visit", async () => {
    const q = resolve({
      metrics: ["visitors", "visits", "pageviews", "events", "bounce_rate", "avg_session_duration", "views_per_visit"],
    });
    const r = await run(q);
    // visits: a(1) b(1) c(2) = 4; bounces: b, c's first = 2 of 4; durations 360, 0, 0, 60 → 105 s.
    expect(r.results).toEqual([{ dimensions: [], metrics: [3, 4, 6, 7, 0.5, 105, 1.5] }]);
    expect((await run(q, raw)).results).toEqual(r.results);
  });

  it("counts bots only when asked", async () => {
    const r = await run(resolve({ metrics: ["visitors", "pageviews"], include: { bots: true, total_rows: false } }));
    expect(r.results[0]?.metrics).toEqual([4, 7]);
  });

  it("pages, with a contains filter and a regex filter", async () => {
    const pages = await run(resolve({ metrics: ["visitors", "pageviews"], dimensions: ["event:page"] }));
    expect(pages.plan.legs[0]?.table).toBe("events_rollup");
    expect(pages.results).toEqual([
      { dimensions: ["/"], metrics: [2, 2] },
      { dimensions: ["/blog/launch"], metrics: [1, 1] },
      { dimensions: ["/blog/x"], metrics: [1, 1] },
      { dimensions: ["/blog/y"], metrics: [1, 1] },
      { dimensions: ["/pricing"], metrics: [1, 1] },
    ]);
    const blog = await run(resolve({ metrics: ["pageviews"], filters: [["contains", "event:page", ["/blog"]]] }));
    expect(blog.results[0]?.metrics).toEqual([3]);
    const regex = await run(
      resolve({ metrics: ["pageviews"], filters: [["matches", "event:page", ["^/blog/[xy]$"]]] }),
    );
    expect(regex.results[0]?.metrics).toEqual([2]);
  });

  it("sources with session metrics; an acquisition filter on event metrics", async () => {
    const r = await run(resolve({ metrics: ["visits", "bounce_rate"], dimensions: ["visit:source"] }));
    expect(r.results).toEqual([
      { dimensions: [""], metrics: [3, 0.6667] },
      { dimensions: ["Google"], metrics: [1, 0] },
    ]);
    const google = await run(
      resolve({ metrics: ["pageviews", "events"], filters: [["is", "visit:source", ["Google"]]] }),
    );
    expect(google.plan.legs[0]?.table).toBe("events");
    expect(google.results[0]?.metrics).toEqual([2, 3]);
  });

  it("an event filter on session metrics: visits that saw the blog, and visits that never did", async () => {
    const saw = await run(resolve({ metrics: ["visits"], filters: [["contains", "event:page", ["/blog"]]] }));
    expect(saw.results[0]?.metrics).toEqual([2]);
    const never = await run(resolve({ metrics: ["visits"], filters: [["contains_not", "event:page", ["/blog"]]] }));
    expect(never.results[0]?.metrics).toEqual([2]);
  });

  it("and / or / not", async () => {
    const r = await run(
      resolve({
        metrics: ["pageviews"],
        filters: [
          [
            "or",
            [
              ["is", "event:page", ["/pricing"]],
              [
                "and",
                [
                  ["contains", "event:page", ["/blog"]],
                  ["not", ["is", "event:page", ["/blog/y"]]],
                ],
              ],
            ],
          ],
        ],
      }),
    );
    expect(r.results[0]?.metrics).toEqual([3]);
  });

  it("goals: converting visitors and conversion rate", async () => {
    const signup = await run(
      resolve({ metrics: ["visitors", "events", "conversion_rate"], filters: [["is", "event:goal", ["Signup"]]] }),
    );
    expect(signup.results[0]?.metrics).toEqual([1, 1, 0.3333]);
    const blog = await run(
      resolve({ metrics: ["visitors", "conversion_rate", "visits"], filters: [["is", "event:goal", ["Blog"]]] }),
    );
    expect(blog.results[0]?.metrics).toEqual([2, 0.6667, 2]);
  });

  it("props as a dimension", async () => {
    const r = await run(resolve({ metrics: ["events"], dimensions: ["event:props:plan"] }));
    expect(r.results).toEqual([
      { dimensions: [""], metrics: [6] },
      { dimensions: ["pro"], metrics: [1] },
    ]);
  });

  it("pages by acquisition: events joined to their sessions", async () => {
    const r = await run(resolve({ metrics: ["pageviews"], dimensions: ["visit:source", "event:page"], limit: 2 }));
    expect(r.plan.legs[0]?.joinSessions).toBe(true);
    expect(r.results).toEqual([
      { dimensions: ["", "/"], metrics: [1] },
      { dimensions: ["", "/blog/launch"], metrics: [1] },
    ]);
  });

  it("hours, gap-filled, in the query's time zone", async () => {
    const q = resolve({
      metrics: ["pageviews"],
      dimensions: ["time:hour"],
      date_range: ["2026-11-20", "2026-11-20"],
      timezone: "Europe/Berlin",
    });
    const r = await run(q);
    expect(r.results).toHaveLength(24);
    expect(r.results[10]).toEqual({ dimensions: ["2026-11-20 10:00:00"], metrics: [2] }); // 09:00 UTC
    expect(r.results[0]).toEqual({ dimensions: ["2026-11-20 00:00:00"], metrics: [0] });
    expect((await run(q, raw)).results).toEqual(r.results);
  });

  it("pages limit, offset and total rows", async () => {
    const r = await run(
      resolve({
        metrics: ["pageviews"],
        dimensions: ["event:page"],
        limit: 2,
        offset: 1,
        include: { bots: false, total_rows: true },
      }),
    );
    expect(r.results.map((x) => x.dimensions[0])).toEqual(["/blog/launch", "/blog/x"]);
    expect(r.total_rows).toBe(5);
  });
});

describe("rollups answer exactly what the raw tables answer", () => {
  const cases: [string, Partial<QuerySpecInput>][] = [
    [
      "totals",
      {
        metrics: [
          "visitors",
          "visits",
          "pageviews",
          "events",
          "bounce_rate",
          "avg_session_duration",
          "views_per_visit",
        ],
      },
    ],
    [
      "by day",
      {
        metrics: [
          "visitors",
          "visits",
          "pageviews",
          "events",
          "bounce_rate",
          "avg_session_duration",
          "views_per_visit",
        ],
        dimensions: ["time:day"],
      },
    ],
    [
      "by hour in Berlin",
      { metrics: ["visitors", "pageviews", "visits"], dimensions: ["time:hour"], timezone: "Europe/Berlin" },
    ],
    [
      "by week in New York",
      { metrics: ["visitors", "pageviews"], dimensions: ["time:week"], timezone: "America/New_York" },
    ],
    [
      "pages",
      { metrics: ["visitors", "visits", "pageviews", "events", "views_per_visit"], dimensions: ["event:page"] },
    ],
    ["event names", { metrics: ["visitors", "events"], dimensions: ["event:name"] }],
    ["hostnames", { metrics: ["visitors", "pageviews"], dimensions: ["event:hostname"] }],
    [
      "devices",
      {
        metrics: ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration", "views_per_visit"],
        dimensions: ["visit:device"],
      },
    ],
    ["browsers", { metrics: ["visitors", "visits", "bounce_rate"], dimensions: ["visit:browser"] }],
    ["os", { metrics: ["visitors", "visits"], dimensions: ["visit:os"] }],
    ["countries", { metrics: ["visitors", "visits", "pageviews"], dimensions: ["visit:country"] }],
    [
      "sources",
      {
        metrics: [
          "visitors",
          "visits",
          "pageviews",
          "events",
          "bounce_rate",
          "avg_session_duration",
          "views_per_visit",
        ],
        dimensions: ["visit:source"],
      },
    ],
    ["channels", { metrics: ["visitors", "visits", "bounce_rate"], dimensions: ["visit:channel"] }],
    ["referrers", { metrics: ["visits"], dimensions: ["visit:referrer"] }],
    ["campaigns", { metrics: ["visits", "avg_session_duration"], dimensions: ["visit:utm_campaign"] }],
    [
      "entry pages",
      { metrics: ["visitors", "visits", "bounce_rate", "avg_session_duration"], dimensions: ["visit:entry_page"] },
    ],
    ["exit pages", { metrics: ["visits", "bounce_rate"], dimensions: ["visit:exit_page"] }],
    ["pages by day", { metrics: ["visitors", "pageviews"], dimensions: ["event:page", "time:day"], limit: 1000 }],
    ["sources by day", { metrics: ["visits", "bounce_rate"], dimensions: ["visit:source", "time:day"], limit: 1000 }],
    ["a page filter", { metrics: ["visitors", "pageviews"], filters: [["contains", "event:page", ["/blog"]]] }],
    [
      "a device filter with a device breakdown",
      {
        metrics: ["visitors", "visits"],
        dimensions: ["visit:device"],
        filters: [["is_not", "visit:device", ["tablet"]]],
      },
    ],
    [
      "a source regex",
      { metrics: ["visits", "bounce_rate"], filters: [["matches", "visit:source", ["^(Google|Twitter)$"]]] },
    ],
    [
      "with bots",
      {
        metrics: ["visitors", "visits", "pageviews"],
        dimensions: ["visit:country"],
        include: { bots: true, total_rows: false },
      },
    ],
    [
      "ordered and paged",
      {
        metrics: ["pageviews", "visitors"],
        dimensions: ["event:page"],
        order_by: [["visitors", "asc"]],
        limit: 3,
        offset: 2,
      },
    ],
  ];
  // Part days: the daily rollup answers the whole UTC days, the hourly one the hours around them.
  const PART_DAYS: [string, string] = ["2026-11-20T05:00:00Z", "2026-11-22T17:00:00Z"];
  const partDays = ["totals", "by day", "pages", "sources", "a device filter with a device breakdown"].map(
    (name): [string, Partial<QuerySpecInput>] => [
      `part days: ${name}`,
      { ...cases.find((c) => c[0] === name)?.[1], date_range: PART_DAYS },
    ],
  );
  it.each(partDays)("%s", async (_, spec) => {
    const q = resolve(spec, "UA-GEN-1");
    const planned = await run(q);
    expect(planned.plan.legs.every((l) => l.table.endsWith("_rollup") && l.days !== null)).toBe(true);
    const direct = await run(q, raw);
    expect(planned.results.length).toBeGreaterThan(0);
    expect(planned.results).toEqual(direct.results);
  });

  it.each(cases)("%s", async (_, spec) => {
    const q = resolve({ date_range: ["2026-11-20", "2026-11-22"], ...spec }, "UA-GEN-1");
    const planned = await run(q);
    expect(planned.plan.legs.every((l) => l.table.endsWith("_rollup"))).toBe(true);
    const direct = await run(q, raw);
    expect(planned.results.length).toBeGreaterThan(0);
    expect(planned.results).toEqual(direct.results);
  });

  it("the generated data is not trivial", async () => {
    const r = await run(resolve({ metrics: ["visitors", "visits", "pageviews", "bounce_rate"] }, "UA-GEN-1"));
    const [visitors, visits, pageviews, bounce] = r.results[0]?.metrics ?? [];
    // Past the sketches' exact modes at both precisions, so merged HyperLogLog registers are what is compared.
    expect(visitors).toBeGreaterThan(2000);
    const [exact] = await rows<{ n: number }>(
      client,
      "SELECT uniqExact(client_id) AS n FROM events WHERE property_id = 'UA-GEN-1' AND NOT is_bot",
    );
    expect(Math.abs(Number(visitors) / Number(exact?.n) - 1)).toBeLessThan(0.024); // 3σ at precision 14
    expect(visits).toBeGreaterThan(visitors ?? 0);
    expect(pageviews).toBeGreaterThan(visits ?? 0);
    expect(bounce).toBeGreaterThan(0.1);
    expect(bounce).toBeLessThan(0.9);
  });
});

it("uses only parameters for values: a hostile value is data, not SQL", async () => {
  const q = resolve({
    metrics: ["pageviews"],
    filters: [
      ["is", "event:page", ["x' OR 1=1 --"]],
      ["is", "event:props:plan", ["') OR ('1'='1"]],
    ],
  });
  const built = buildQuerySql(q, planQuery(q, NOW, 90));
  expect(built.sql).not.toContain("OR 1=1");
  expect(built.sql).not.toContain("'1'='1");
  const r = await run(q);
  expect(r.results).toEqual([{ dimensions: [], metrics: [0] }]);
});

it("never reads another property's rows", async () => {
  const r = await run(resolve({ metrics: ["visitors", "pageviews"] }, "UA-OTHER-1"));
  expect(r.results[0]?.metrics).toEqual([1, 1]);
});

// Keep the session-log invariant visible here too: the rollup relies on it.
it("session_log sums equal sessions FINAL", async () => {
  const [log] = await rows<{ v: number; b: number }>(
    client,
    "SELECT sum(sign) AS v, sum(sign * is_bounce) AS b FROM session_log WHERE property_id = 'UA-GEN-1'",
  );
  const [fin] = await rows<{ v: number; b: number }>(
    client,
    "SELECT count() AS v, sum(is_bounce) AS b FROM sessions FINAL WHERE property_id = 'UA-GEN-1'",
  );
  expect(Number(log?.v)).toBe(Number(fin?.v));
  expect(Number(log?.b)).toBe(Number(fin?.b));
});
