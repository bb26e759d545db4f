import { expect, it } from "vitest";
import { normaliseQuery } from "../../core/query-normalise.ts";
import { planQuery } from "../../core/query-plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query-spec.ts";
import { buildQuerySql } from "../../core/query-sql.ts";

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
  expect(parts).toContain("FROM events_rollup_days WHERE");
  expect(parts).toContain(
    "UNION ALL SELECT property_id, dim, is_bot, value, visitors_p12, hour FROM events_rollup WHERE",
  );
  expect(parts).toContain("uniqCombinedMerge(12)(visitors_p12) AS e_visitors");
  const whole = sql({ metrics: ["visitors"], date_range: ["2026-11-01", "2026-11-07"] });
  expect(whole).toContain("FROM events_rollup_days WHERE");
  expect(whole).not.toContain("UNION ALL");
  const hours = sql({ metrics: ["visitors"], dimensions: ["time:hour"], date_range: ["2026-11-01", "2026-11-07"] });
  expect(hours).not.toContain("events_rollup_days");
  expect(hours).toContain("FROM events_rollup WHERE");
});

it("estimates visitors at one precision per query, rollup or raw", () => {
  const raw = sql({ metrics: ["visitors"], dimensions: ["visit:city"] });
  expect(raw).toContain("uniqCombined(12)(client_id) AS e_visitors");
  const rawTotals = sql({ metrics: ["visitors"], date_range: ["2026-11-20T10:30:00Z", "2026-11-20T14:00:00Z"] });
  expect(rawTotals).toContain("uniqCombined(14)(client_id) AS e_visitors");
});

it("runs rollup statements on one thread, raw ones with the server's default", () => {
  expect(build({ dimensions: ["event:page"] }).settings).toEqual({ max_threads: 1 });
  expect(build({ dimensions: ["visit:city"] }).settings).toEqual({});
});
