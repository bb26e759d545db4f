/**
 * `GET /api/v1/data-quality?property_id=…&from=…&to=…` (admin token or the property's API key):
 * the property's hours whose event counts in the archive, ClickHouse and the warehouse disagreed
 * (core/warehouse/quality.ts), and how many hours were checked, so the dashboard can show both.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { DataQualityQuerySchema, dataQualityRange, dataQualityReport } from "../../core/warehouse/quality.ts";
import { loadConfig } from "../../platform/config.ts";
import { isStatementTimeout, withWarehouse } from "../../platform/warehouse.ts";
import { requirePropertyAccess } from "../auth.ts";

export const dataQualityRoutes = new Hono<{ Bindings: Env }>();

dataQualityRoutes.get("/api/v1/data-quality", async function dataQuality(c) {
  const parsed = DataQualityQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  const q = parsed.data;
  await requirePropertyAccess(c, q.property_id, "read");
  const config = loadConfig(c.env);
  const url = config.WAREHOUSE_URL;
  if (!url) throw new AppError("warehouse_unavailable", 501, "no warehouse is configured (WAREHOUSE_URL is empty)");
  const range = dataQualityRange(q, Date.now());
  const { checked, mismatches } = await withWarehouse(
    url,
    async (db) => {
      const report = dataQualityReport(db, q.property_id, range);
      return {
        checked: (await report.checked.executeTakeFirstOrThrow()).hours,
        mismatches: await report.mismatches.execute(),
      };
    },
    // Bounded like the query API's warehouse statements.
    { max: 1, statementTimeoutMs: config.QUERY_MAX_EXECUTION_SECONDS * 1000 },
  ).catch((error: unknown) => {
    if (!isStatementTimeout(error)) throw error;
    throw new AppError("query_timeout", 503, "from: the report ran too long; ask for a shorter range", {
      cause: error,
      retryAfterSeconds: 60,
    });
  });
  return c.json({
    property_id: q.property_id,
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    checked_hours: Number(checked),
    mismatches: mismatches.map((m) => ({ ...m, hour: m.hour.toISOString(), checked_at: m.checked_at.toISOString() })),
  });
});
