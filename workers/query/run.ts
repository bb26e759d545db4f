/**
 * The query pipeline, end to end and in this order: validate (route) → normalise → plan → build
 * SQL → run → shape. Every number the dashboard and the reports show passes through `runQuery`.
 */
import type { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import type { QueryResponseSchema } from "../../core/openapi.ts";
import { liveRows } from "../../core/query/live.ts";
import {
  comparisonOf,
  type NormalisedQuery,
  normaliseQuery,
  publicQuery,
  type ResolvedQuery,
} from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { type ResultRow, shapeRows } from "../../core/query/shape.ts";
import { GOAL_DIMENSION, type QuerySpec, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { cacheKey, cacheTtlSeconds, queryCache } from "../../platform/query-cache.ts";

export interface QueryResponse {
  results: ResultRow[];
  comparison?: ResultRow[] | null;
  meta: {
    source: Plan["source"];
    cached: boolean;
    /** The store that keeps (or answered) this result: Upstash Redis or the Workers Cache API. */
    cache: "upstash" | "cache-api" | "none";
    took_ms: number;
    total_rows?: number;
    plan: string;
    comparison_unavailable?: string;
  };
  query: NormalisedQuery;
}

/** The response as documented (core/openapi.ts): the compiler holds the two definitions together. */
export const documented = (r: QueryResponse): z.infer<typeof QueryResponseSchema> => r;

/** Parses and validates a query; 400 naming each bad field and what is allowed. */
export function parseQuerySpec(body: unknown): QuerySpec {
  const result = QuerySpecSchema.safeParse(body);
  if (!result.success) throw new AppError("invalid_query", 400, describeIssues(toFieldIssues(result.error)));
  return result.data;
}

interface Executed {
  results: ResultRow[];
  total_rows: number | undefined;
  plan: Plan;
}

async function execute(env: Env, q: ResolvedQuery, now: number): Promise<Executed> {
  const config = loadConfig(env);
  const plan = planQuery(q, now, config.HOT_RETENTION_DAYS);
  if (plan.source === "warehouse")
    throw new AppError(
      "warehouse_unavailable",
      501,
      `date_range: ${plan.reason}; ranges older than the hot retention are answered by the warehouse, which is not connected yet`,
    );
  if (plan.source === "live") {
    const windows = await propertyStub(env, q.property_id).storedWindows(now);
    return { ...shapeRows(q, liveRows(q, windows), false), plan };
  }
  const built = buildQuerySql(q, plan);
  const result = await clickHouseClient(config).query({
    query: built.sql,
    query_params: built.params,
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...built.settings },
  });
  const rows = await result.json<Record<string, unknown>>();
  return { ...shapeRows(q, rows, built.gapFill === null), plan };
}

/** The comparison period, or why it cannot be answered (it may fall beyond the hot retention). */
async function executeComparison(env: Env, q: ResolvedQuery, now: number) {
  const previous = comparisonOf(q);
  if (!previous) return undefined;
  try {
    return { rows: (await execute(env, previous, now)).results };
  } catch (error) {
    if (error instanceof AppError && error.status === 501) return { rows: null, why: error.message };
    throw error;
  }
}

export interface RunOptions {
  /** waitUntil: cache writes leave after the answer. */
  defer?: (work: Promise<unknown>) => void;
  /** `Cache-Control: no-cache`: do not answer from the cache (the fresh answer is still stored). */
  fresh?: boolean;
}

/** Runs a validated query for a caller already authorised for its property. */
export async function runQuery(
  env: Env,
  spec: QuerySpec,
  now = Date.now(),
  options: RunOptions = {},
): Promise<QueryResponse> {
  const started = performance.now();
  const property = await propertyConfig(env, spec.property_id);
  if (!property) throw new AppError("property_not_found", 404, `property ${spec.property_id} does not exist`);
  const wantsGoals = JSON.stringify(spec.filters).includes(`"${GOAL_DIMENSION}"`);
  const goals = wantsGoals ? await propertyStub(env, spec.property_id).goals() : [];
  const q = normaliseQuery(spec, { propertyTimezone: property.timezone, createdAt: property.created_at, now, goals });
  const cache = queryCache(env);
  const key = await cacheKey(q.property_id, { query: publicQuery(q), goals: q.goals });
  const hit = options.fresh ? undefined : await cache.get<QueryResponse>(key);
  if (hit) return { ...hit, meta: { ...hit.meta, cached: true, took_ms: Math.round(performance.now() - started) } };
  const [main, comparison] = await Promise.all([execute(env, q, now), executeComparison(env, q, now)]);
  const response: QueryResponse = {
    results: main.results,
    ...(comparison ? { comparison: comparison.rows } : {}),
    meta: {
      source: main.plan.source,
      cached: false,
      cache: main.plan.source === "live" ? "none" : cache.kind,
      took_ms: Math.round(performance.now() - started),
      ...(main.total_rows !== undefined ? { total_rows: main.total_rows } : {}),
      plan: main.plan.reason,
      ...(comparison?.why ? { comparison_unavailable: comparison.why } : {}),
    },
    query: publicQuery(q),
  };
  // Live answers are the actor's current minute: caching them would only make them stale.
  // Written after the answer leaves (waitUntil): the caller does not wait for the cache.
  if (main.plan.source !== "live") {
    const write = cache.put(key, response, cacheTtlSeconds(q.to, now));
    if (options.defer) options.defer(write);
    else await write;
  }
  return response;
}
