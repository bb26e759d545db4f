/**
 * GET /api/v1/bots?property=…: what bot filtering set aside — counts per reason, visitors, and
 * samples — so the filtering can be audited; `reclassify=true` re-applies today's rules. The same
 * pipeline as every question: validate → plan (by range, like any query) → build SQL
 * (core/query/bots.ts) → run (engine.ts) → shape. Not cached: an audit reads the events as they are.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { BotsQuerySchema, botsRange, buildBotsSql, shapeBots } from "../../core/query/bots.ts";
import { requirePropertyAccess } from "../auth.ts";
import { rawStoreFor } from "./engine.ts";

export const botRoutes = new Hono<{ Bindings: Env }>();

botRoutes.get("/api/v1/bots", async function botReport(c) {
  const parsed = BotsQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  const q = parsed.data;
  await requirePropertyAccess(c, q.property);
  const now = Date.now();
  const range = botsRange(q, now);
  const store = rawStoreFor(c.env, q.property, "bots", range, now);
  const statements = buildBotsSql(q, range);
  const [reasons, samples] = await Promise.all([store.rows(statements.byReason), store.rows(statements.samples)]);
  return c.json(shapeBots(q, range, reasons, samples));
});
