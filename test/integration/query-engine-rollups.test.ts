/**
 * The query engine's rollups against the real ClickHouse engine: for a generated dataset of
 * thousands of visitors, the rollups answer exactly what the raw tables answer, and the session
 * log they are built from sums to the sessions table.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResolvedQuery } from "../../core/query/normalise.ts";
import type { Plan } from "../../core/query/plan.ts";
import type { Filter, QuerySpecInput } from "../../core/query/spec.ts";
import { generateDataset } from "../../dev/fixtures/dataset.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";
import { DAY, insert, raw, resolve, runQuery } from "./query-engine-support.ts";

let client: ClickHouseClient;
const GOAL = (...names: string[]): Filter => ["is", "event:goal", names];
const run = (q: ResolvedQuery, force?: (p: Plan) => Plan) => runQuery(client, q, force);

beforeAll(async () => {
  ({ client } = await freshDatabase("query"));
  await insert(client, generateDataset({ property_id: "UA-GEN-1", start: DAY, days: 3, visitors: 3000, seed: 7 }));
}, 120_000);

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
    ["a goal", { metrics: ["visitors", "pageviews", "events", "conversion_rate"], filters: [GOAL("Signup")] }],
    [
      "a page goal by day",
      {
        metrics: ["visitors", "pageviews", "events", "conversion_rate"],
        dimensions: ["time:day"],
        filters: [GOAL("Blog")],
      },
    ],
    ["two goals", { metrics: ["visitors", "events", "conversion_rate"], filters: [GOAL("Signup", "Blog")] }],
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
  const partDays = ["totals", "by day", "pages", "sources", "a device filter with a device breakdown", "a goal"].map(
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
