import { expect, it } from "vitest";
import { normaliseQuery } from "../../core/query/normalise.ts";
import { planQuery } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const build = (spec: Partial<QuerySpecInput>) => {
  const q = normaliseQuery(QuerySpecSchema.parse({ property_id: "UA-1-1", metrics: ["visitors"], ...spec }), {
    propertyTimezone: "UTC",
    createdAt: NOW - 86_400_000 * 400,
    now: NOW,
    goals: [],
  });
  return buildQuerySql(q, planQuery(q, NOW, 90));
};
const sql = (spec: Partial<QuerySpecInput>) => build(spec).sql;

it("computes only the sketches the answer reads (ClickHouse does not prune them across the join)", () => {
  const totals = sql({ metrics: ["visitors", "bounce_rate"] });
  expect(totals).toContain("uniqCombinedMerge(14)(visitors_p14) AS e_visitors");
  expect(totals).not.toContain("visits_p12");
  expect(totals).not.toContain("AS s_visitors");
  expect(totals).toContain("sum(bounces) AS s_bounces");
  expect(sql({ metrics: ["pageviews"] })).not.toContain("uniqCombined");
});

it("reads whole UTC days as day blocks and the hours around them from the hourly rollup", () => {
  const parts = sql({
    metrics: ["visitors"],
    dimensions: ["event:page"],
    date_range: ["2026-11-20T05:00:00Z", "2026-11-23T17:00:00Z"],
  });
  // Each branch filters its own table: no outer WHERE over the union.
  expect(parts).toMatch(
    /FROM \(SELECT value, visitors_p12, day AS hour FROM events_rollup_days WHERE property_id = \{p0:String\} AND .* AND dim = \{p\d+:String\} AND NOT is_bot UNION ALL SELECT value, visitors_p12, hour FROM events_rollup WHERE property_id = \{p0:String\} AND \(\(hour >= .*\)\) AND dim = \{p\d+:String\} AND NOT is_bot\) GROUP BY d0\)/,
  );
  expect(parts).toContain("uniqCombinedMerge(12)(visitors_p12) AS e_visitors");
  const whole = sql({ metrics: ["visitors"], date_range: ["2026-11-01", "2026-11-07"] });
  expect(whole).toMatch(
    /FROM events_rollup_days WHERE property_id = \{p0:String\} AND span = \{p\d+:UInt8\} AND day >= /,
  );
  expect(whole).not.toContain("UNION ALL");
  const hours = sql({ metrics: ["visitors"], dimensions: ["time:hour"], date_range: ["2026-11-01", "2026-11-07"] });
  expect(hours).not.toContain("events_rollup_days");
  expect(hours).toContain("FROM events_rollup WHERE");
});

it("names a breakdown's day blocks as a set of (span, day) keys, a time series' days as one range", () => {
  const top = build({ metrics: ["visitors"], dimensions: ["event:page"], date_range: ["2026-10-01", "2026-10-30"] });
  const keys = [...top.sql.matchAll(/\(\{(p\d+):UInt8\}, toDateTime\(\{(p\d+):UInt32\}, 'UTC'\)\)/g)].map((m) => [
    top.params[m[1] ?? ""],
    new Date(Number(top.params[m[2] ?? ""]) * 1000).toISOString().slice(0, 10),
  ]);
  expect(top.sql).toContain("(span, day) IN (");
  expect(keys.reduce((days, [span]) => days + Number(span), 0)).toBe(30);
  expect(keys[0]?.[1]).toBe("2026-10-01");
  expect(Math.max(...keys.map(([span]) => Number(span)))).toBeGreaterThan(1);
  expect(top.sql).not.toContain(" OR ");
  const series = sql({ metrics: ["visitors"], dimensions: ["time:day"], date_range: ["2026-10-01", "2026-10-30"] });
  expect(series).not.toContain("(span, day) IN");
  expect(series).toMatch(/span = \{p\d+:UInt8\} AND day >= .* AND day < /);
});

it("does not sort or page a one-row answer unless an offset asks to skip it", () => {
  expect(sql({ metrics: ["visitors"] })).not.toMatch(/ORDER BY|LIMIT/);
  expect(sql({ metrics: ["visitors"], offset: 1 })).toContain("OFFSET");
  expect(sql({ metrics: ["visitors"], dimensions: ["event:page"] })).toContain("ORDER BY");
});

it("estimates visitors at one precision per query, rollup or raw", () => {
  const raw = sql({ metrics: ["visitors"], dimensions: ["visit:city"] });
  expect(raw).toContain("uniqCombined(12)(client_id) AS e_visitors");
  const rawTotals = sql({ metrics: ["visitors"], date_range: ["2026-11-20T10:30:00Z", "2026-11-20T14:00:00Z"] });
  expect(rawTotals).toContain("uniqCombined(14)(client_id) AS e_visitors");
});

it("runs rollup statements on one thread, raw ones with the server's threads and large semi-join sets kept off the indexes", () => {
  expect(build({ dimensions: ["event:page"] }).settings).toEqual({ max_threads: 1 });
  expect(build({ dimensions: ["visit:city"] }).settings).toEqual({
    use_index_for_in_with_subqueries_max_values: 10_000,
  });
});

it("semi-joins sessions on their ids' hashes, both ways", () => {
  const bySource = sql({ dimensions: ["event:page"], filters: [["is", "visit:source", ["Google"]]] });
  expect(bySource).toMatch(/session_hash IN \(SELECT session_hash FROM sessions FINAL WHERE /);
  const bounceWithout = sql({ metrics: ["bounce_rate"], filters: [["is_not", "event:page", ["/pricing"]]] });
  expect(bounceWithout).toMatch(/session_hash NOT IN \(SELECT session_hash FROM events WHERE /);
});

it("computes a goal's figures the answer reads, `_conv` defined once by the first of them", () => {
  const goals = [{ name: "Pricing", kind: "page" as const, page_path: "/pricing" }];
  const goalSql = (metrics: QuerySpecInput["metrics"], raw = true) => {
    const spec = { property_id: "UA-1-1", metrics, filters: [["is", "event:goal", ["Pricing"]]] };
    const q = normaliseQuery(QuerySpecSchema.parse(spec), { propertyTimezone: "UTC", createdAt: 0, now: NOW, goals });
    const plan = planQuery(q, NOW, 90);
    const legs = raw ? plan.legs.map((l) => ({ ...l, table: l.side, rollupDimension: null })) : plan.legs;
    return buildQuerySql(q, { ...plan, legs }).sql;
  };
  const report = goalSql(["visitors", "events", "conversion_rate"]);
  expect(report).not.toContain("session_id");
  expect(report.match(/AS _conv\b/g)).toHaveLength(1);
  expect(report).toContain("uniqCombinedIf(14)(client_id, (((event_type = 'pageview' AND page_path = {p");
  const revenue = goalSql(["total_revenue"]);
  expect(revenue.match(/AS _conv\b/g)).toHaveLength(1);
  expect(revenue).not.toContain("uniqCombined");
  // Planned: the goal's rows and the totals' row of the rollup, told apart by `dim`.
  const planned = goalSql(["visitors", "conversion_rate"], false);
  expect(planned).toMatch(/\(dim = '' OR \(dim = \{p\d+:String\} AND value = \{p\d+:String\}\)\)/);
  expect(planned).toContain("uniqCombinedMergeIf(14)(visitors_p14, dim != '') AS e_visitors");
  expect(planned).toContain("uniqCombinedMergeIf(14)(visitors_p14, dim = '') AS e_conv_total");
});
