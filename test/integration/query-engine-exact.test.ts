/**
 * The query engine (normalise → plan → SQL → shape) against the real ClickHouse engine, on data
 * the session reducer produced: exact figures on a hand-built property, values kept as parameters,
 * and one property's rows never counted for another.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResolvedQuery } from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { replay } from "../../dev/fixtures/dataset.ts";
import { freshDatabase } from "../support/clickhouse.ts";
import { at, ev, insert as insertInto, NOW, raw, resolve, runQuery } from "./query-engine-support.ts";

let client: ClickHouseClient;
const insert = (data: { events: unknown[]; sessionLog: unknown[] }) => insertInto(client, data);
const run = (q: ResolvedQuery, force?: (p: Plan) => Plan) => runQuery(client, q, force);

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
