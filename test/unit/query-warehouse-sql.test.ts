/** The warehouse statement's shape: portable to Redshift, values only as parameters (core/query/warehouse-sql.ts). */
import { describe, expect, it } from "vitest";
import { type GoalRef, normaliseQuery } from "../../core/query/normalise.ts";
import { planWarehouse } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildWarehouseSql, warehouseThrough, warehouseThroughSql } from "../../core/query/warehouse-sql.ts";

const NOW = Date.parse("2026-11-26T12:00:00Z");
const GOALS: GoalRef[] = [{ name: "Blog", kind: "page", page_path: "/blog/**" }];
const build = (spec: Partial<QuerySpecInput>) => {
  const parsed = QuerySpecSchema.parse({
    property_id: "UA-1-1",
    metrics: ["visitors"],
    date_range: ["2025-10-01", "2025-10-31"],
    ...spec,
  });
  const q = normaliseQuery(parsed, { propertyTimezone: "Europe/Berlin", createdAt: 0, now: NOW, goals: GOALS });
  return buildWarehouseSql(q, planWarehouse(q, "test"));
};

describe("the warehouse statement", () => {
  const every = build({
    metrics: ["visitors", "visits", "bounce_rate", "percentage", "conversion_rate", "total_revenue"],
    dimensions: ["visit:source", "time:day"],
    filters: [
      ["contains", "event:page", ["/pricing'; DROP TABLE events; --"]],
      ["is", "event:goal", ["Blog"]],
    ],
    include: { total_rows: true },
  });

  it("carries every value as a parameter, never in the text", () => {
    expect(every.main.sql).not.toContain("DROP TABLE");
    expect(every.main.sql).not.toContain("UA-1-1");
    expect(every.main.sql).not.toContain("Europe/Berlin");
    expect(every.main.parameters).toContain("/pricing'; DROP TABLE events; --");
    expect(every.main.parameters).toContain("^/blog/.*$");
    expect(every.main.parameters).toContain("Europe/Berlin");
  });

  it("uses only what Redshift has: CASE inside aggregates, AT TIME ZONE, no FILTER, DISTINCT ON or arrays", () => {
    for (const sql of [every.main.sql, every.currencies?.sql ?? ""]) {
      expect(sql).not.toMatch(/\bFILTER\s*\(|DISTINCT ON|ARRAY|::|CONVERT_TIMEZONE|= ANY/i);
    }
    expect(every.main.sql).toContain("COUNT(DISTINCT CASE WHEN");
    expect(every.main.sql).toContain("AT TIME ZONE 'UTC') AT TIME ZONE $");
    expect(every.main.sql).toMatch(/FULL OUTER JOIN .* USING \("d0", "d1"\)/);
    expect(every.main.sql).toContain("COUNT(*) OVER () AS _total");
    expect(every.main.sql).toMatch(/ORDER BY "d1" ASC, "d0" ASC LIMIT \$\d+ OFFSET \$\d+$/);
  });

  it("leaves a time series unpaged for the shaper to gap-fill, and asks other currencies apart", () => {
    const series = build({ metrics: ["visitors", "average_revenue"], dimensions: ["time:month"] });
    expect(series.gapFill).toBe("time:month");
    expect(series.main.sql).not.toContain("LIMIT");
    expect(series.main.sql).toContain("TO_CHAR(");
    expect(series.currencies?.sql).toMatch(/^SELECT DISTINCT currency FROM/);
    expect(build({ metrics: ["visitors"] }).currencies).toBeNull();
  });

  it("reads the boundary from the schedule's frontier only, never from loads ahead of it", () => {
    const frontier = new Date("2026-11-26T11:00:00Z");
    expect(warehouseThrough({ frontier })).toBe(frontier.getTime());
    expect(warehouseThrough({ frontier: null })).toBeNull();
    expect(warehouseThrough(undefined)).toBeNull();
    const { sql } = warehouseThroughSql();
    expect(sql).toContain('"job" = $1');
    expect(sql).not.toContain("status");
  });
});
