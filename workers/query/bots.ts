/**
 * GET /api/v1/bots?property=…: what bot filtering set aside — counts per reason, visitors, and
 * samples — so the filtering can be audited; `reclassify=true` re-applies today's rules.
 */
import { Hono } from "hono";
import { z } from "zod";
import { toClickHouseDateTime } from "../../core/clickhouse-row.ts";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { byReasonSql, ruleParams, samplesSql } from "../../core/query/bots.ts";
import { DAY_MS } from "../../core/time.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { requirePropertyAccess } from "../auth.ts";

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date such as 2026-11-01", abort: true })
  .refine((d) => !Number.isNaN(Date.parse(d)), "is not a valid date");

export const BotsQuerySchema = z.strictObject({
  property: z.string().min(1),
  from: Day.optional(),
  to: Day.optional(),
  reclassify: z.enum(["true", "false"]).default("false"),
  samples: z.coerce.number().int().min(0).max(100).default(20),
});

export const botRoutes = new Hono<{ Bindings: Env }>();

botRoutes.get("/api/v1/bots", async function botReport(c) {
  const parsed = BotsQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  const q = parsed.data;
  await requirePropertyAccess(c, q.property);
  const to = q.to ? Date.parse(q.to) + DAY_MS : Date.now();
  const from = q.from ? Date.parse(q.from) : to - 7 * DAY_MS;
  if (from >= to) throw new AppError("invalid_request", 400, "from: must be before to");
  const reclassify = q.reclassify === "true";
  const params = {
    property: q.property,
    from: toClickHouseDateTime(from),
    to: toClickHouseDateTime(to),
    limit: q.samples,
    ...ruleParams(),
  };
  const client = clickHouseClient(loadConfig(c.env));
  const [reasons, samples] = await Promise.all([
    client
      .query({ query: byReasonSql(reclassify), query_params: params, format: "JSONEachRow" })
      .then((r) => r.json<{ reason: string; events: string; visitors: string }>()),
    client
      .query({ query: samplesSql(reclassify), query_params: params, format: "JSONEachRow" })
      .then((r) => r.json<Record<string, unknown>>()),
  ]);
  const byReason = reasons.map((r) => ({ reason: r.reason, events: Number(r.events), visitors: Number(r.visitors) }));
  const total = byReason.reduce((n, r) => n + r.events, 0);
  const human = byReason.find((r) => r.reason === "")?.events ?? 0;
  return c.json({
    property_id: q.property,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    reclassified: reclassify,
    total_events: total,
    human_events: human,
    bot_events: total - human,
    by_reason: byReason.filter((r) => r.reason !== ""),
    samples,
  });
});
