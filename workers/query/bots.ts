/**
 * GET /api/v1/bots?property=…: what bot filtering set aside — counts per reason, visitors, and
 * samples — so the filtering can be audited; `reclassify=true` re-applies today's rules. The same
 * pipeline as every question: validate → plan (by range, like any query: ClickHouse, or the
 * warehouse beyond the hot retention) → build SQL (core/query/bots.ts, warehouse-bots.ts) → run
 * (engine.ts) → shape. Not cached: an audit reads the events as they are. `to` in the answer is
 * the end of what was audited: the warehouse's boundary when the range reaches past it. Charged
 * to the property's hourly quota like any query: one unit per statement (two).
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { BotsQuerySchema, botsRange, buildBotsSql, shapeBots } from "../../core/query/bots.ts";
import { buildWarehouseBotsSql } from "../../core/query/warehouse-bots.ts";
import { DAY_MS } from "../../core/time.ts";
import { loadConfig } from "../../platform/config.ts";
import { rawRunFor, withWarehouseLink } from "./engine.ts";
import { measureQueries } from "./metrics.ts";
import { authorise, runOptions } from "./route.ts";

export const botRoutes = new Hono<{ Bindings: Env }>();
botRoutes.use("/api/v1/bots", measureQueries("bots"));

botRoutes.get("/api/v1/bots", async function botReport(c) {
  const parsed = BotsQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  const q = parsed.data;
  // Raw user agents and pages: members and keys only, never a shared link or a public page.
  await authorise(c, q.property, "read");
  const now = Date.now();
  const range = botsRange(q, now);
  const options = runOptions(c, q.property);
  return withWarehouseLink(c.env, options, async (link) => {
    const run = await rawRunFor(c.env, q.property, "bots", range, now, link, options.charge);
    const rawUaSince = now - loadConfig(c.env).RAW_USER_AGENT_DAYS * DAY_MS;
    const clickhouse = buildBotsSql(q, run.range, rawUaSince);
    const warehouse = buildWarehouseBotsSql(q, run.range, rawUaSince);
    const [reasons, samples] = await Promise.all([
      run.rows({ clickhouse: () => clickhouse.byReason, warehouse: () => warehouse.byReason }),
      run.rows({ clickhouse: () => clickhouse.samples, warehouse: () => warehouse.samples }),
    ]);
    return c.json({
      ...shapeBots(q, run.range, reasons, samples),
      meta: { source: run.plan.source, plan: run.plan.reason },
    });
  });
});
