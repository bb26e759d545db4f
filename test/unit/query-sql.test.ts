import { expect, it } from "vitest";
import { normaliseQuery } from "../../core/query-normalise.ts";
import { planQuery } from "../../core/query-plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query-spec.ts";
import { buildQuerySql } from "../../core/query-sql.ts";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const sql = (spec: Partial<QuerySpecInput>) => {
  const q = normaliseQuery(QuerySpecSchema.parse({ property_id: "UA-1-1", metrics: ["visitors"], ...spec }), {
    propertyTimezone: "UTC",
    createdAt: NOW - 86_400_000 * 400,
    now: NOW,
    goals: [],
  });
  return buildQuerySql(q, planQuery(q, NOW, 90)).sql;
};

it("computes only the sketches the answer reads (ClickHouse does not prune them across the join)", () => {
  const totals = sql({ metrics: ["visitors", "bounce_rate"] });
  expect(totals).toContain("uniqCombinedMerge(visitors) AS e_visitors");
  expect(totals).not.toContain("uniqCombinedMerge(visits)");
  expect(totals).not.toContain("AS s_visitors");
  expect(totals).toContain("sum(bounces) AS s_bounces");
  expect(sql({ metrics: ["pageviews"] })).not.toContain("uniqCombined");
});
