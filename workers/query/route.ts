/**
 * POST /api/v1/query (JSON body) and GET /api/v1/query?q=<url-encoded JSON>: the query language
 * over HTTP. JSON by default; CSV with `Accept: text/csv` or `format=csv`.
 */
import { type Context, Hono } from "hono";
import { toCsv } from "../../core/csv.ts";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { openApiDocument } from "../../core/openapi.ts";
import { ReportParamsSchema } from "../../core/query/report-spec.ts";
import type { Capability } from "../../core/team/roles.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyStub } from "../../platform/properties.ts";
import type { DataVersion } from "../../platform/query-cache.ts";
import { requirePropertyAccess } from "../auth.ts";
import { boundedQueryParam, readQueryBody } from "./body.ts";
import type { RunOptions } from "./engine.ts";
import { measureQueries } from "./metrics.ts";
import { quotaRefusal, statementMeter } from "./quota.ts";
import { runReport } from "./reports.ts";
import { documented, parseQuerySpec, type QueryResponse, runQuery } from "./run.ts";

type Ctx = Context<{ Bindings: Env }>;

export const queryRoutes = new Hono<{ Bindings: Env }>();
queryRoutes.use("/api/v1/query", measureQueries("query"));
queryRoutes.use("/api/v1/reports", measureQueries("reports"));

function parseJsonText(text: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("invalid_query", 400, `${field}: is not valid JSON`);
  }
}

/**
 * Auth first (401 before anything is read), then the property's hourly quota (429 with
 * Retry-After). The same actor call brings the data versions the query cache keys by.
 */
export async function authorise(c: Ctx, propertyId: string, capability: Capability = "view"): Promise<DataVersion> {
  await requirePropertyAccess(c, propertyId, capability);
  const limit = loadConfig(c.env).QUERY_LIMIT_PER_HOUR;
  const { quota, data } = await propertyStub(c.env, propertyId).admitQuery(Date.now(), limit);
  c.header("X-RateLimit-Remaining", String(quota.remaining));
  if (!quota.allowed) throw quotaRefusal(propertyId, limit, quota);
  return data;
}

/**
 * Cache writes go to waitUntil; `Cache-Control: no-cache` asks for an answer not read from the
 * cache; every statement after the first the admission paid for is charged to the quota.
 */
export function runOptions(c: Ctx, propertyId: string, data?: DataVersion): RunOptions {
  return {
    defer: (work) => c.executionCtx.waitUntil(work),
    fresh: /\bno-cache\b/i.test(c.req.header("cache-control") ?? ""),
    ...(data ? { data } : {}),
    charge: statementMeter(c.env, propertyId),
  };
}

export function wantsCsv(c: Ctx): boolean {
  return c.req.query("format") === "csv" || (c.req.header("accept") ?? "").includes("text/csv");
}

function queryCsv(response: QueryResponse): string {
  const { dimensions, metrics } = response.query;
  return toCsv(
    [...dimensions, ...metrics],
    response.results.map((r) => [...r.dimensions, ...r.metrics]),
  );
}

async function answer(c: Ctx, body: unknown): Promise<Response> {
  const propertyId = (body as { property_id?: unknown } | null)?.property_id;
  if (typeof propertyId !== "string" || propertyId === "")
    throw new AppError("invalid_query", 400, "property_id: is required");
  const data = await authorise(c, propertyId);
  const response = await runQuery(c.env, parseQuerySpec(body), Date.now(), runOptions(c, propertyId, data));
  if (wantsCsv(c))
    return c.body(queryCsv(response), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="query.csv"`,
    });
  return c.json(documented(response));
}

queryRoutes.post("/api/v1/query", async function postQuery(c) {
  return answer(c, parseJsonText(await readQueryBody(c.req.raw), "body"));
});

queryRoutes.get("/api/v1/query", async function getQuery(c) {
  const q = c.req.query("q");
  if (!q) throw new AppError("invalid_query", 400, "q: query parameter with the URL-encoded JSON query is required");
  return answer(c, parseJsonText(boundedQueryParam(q), "q"));
});

queryRoutes.get("/api/v1/reports", async function report(c) {
  const parsed = ReportParamsSchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_query", 400, describeIssues(toFieldIssues(parsed.error)));
  const data = await authorise(c, parsed.data.property);
  const report = await runReport(c.env, parsed.data, Date.now(), runOptions(c, parsed.data.property, data));
  if (wantsCsv(c))
    return c.body(toCsv(report.table.header, report.table.rows), 200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${parsed.data.report}.csv"`,
    });
  return c.json(report.body);
});

/** The OpenAPI document, generated from the zod schemas that validate these routes. */
queryRoutes.get("/api/v1/openapi.json", function openApi(c) {
  return c.json(openApiDocument(new URL(c.req.url).origin));
});
