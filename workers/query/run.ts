/**
 * The query language, end to end and in this order: validate (route) → normalise → plan → build
 * SQL → run (engine.ts) → shape. Every number the dashboard and the reports show passes through `runQuery`.
 */
import type { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import type { QueryResponseSchema } from "../../core/openapi.ts";
import { propertyCurrency } from "../../core/property/property.ts";
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
import { loadConfig } from "../../platform/config.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { cached, type RunOptions, storeFor } from "./engine.ts";

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
    /** With a revenue metric: the currency its numbers are in, and the others seen (not converted). */
    currency?: string;
    other_currencies?: string[];
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
  other_currencies: string[] | undefined;
  plan: Plan;
}

/** plan → build → run → shape for one resolved query (the main period or its comparison). */
async function execute(env: Env, q: ResolvedQuery, plan: Plan, now: number): Promise<Executed> {
  const store = storeFor(env, q.property_id, plan, now);
  if (plan.source === "live") return { ...shapeRows(q, liveRows(q, await store.windows()), false), plan };
  const built = buildQuerySql(q, plan);
  return { ...shapeRows(q, await store.rows(built), built.gapFill === null), plan };
}

/** The comparison period, or why it cannot be answered (it may fall beyond the hot retention). */
async function executeComparison(env: Env, q: ResolvedQuery, now: number) {
  const previous = comparisonOf(q);
  if (!previous) return undefined;
  try {
    const plan = planQuery(previous, now, loadConfig(env).HOT_RETENTION_DAYS);
    return { rows: (await execute(env, previous, plan, now)).results };
  } catch (error) {
    if (error instanceof AppError && error.status === 501) return { rows: null, why: error.message };
    throw error;
  }
}

async function answer(env: Env, q: ResolvedQuery, plan: Plan, now: number, started: number): Promise<QueryResponse> {
  const [main, comparison] = await Promise.all([execute(env, q, plan, now), executeComparison(env, q, now)]);
  return {
    results: main.results,
    ...(comparison ? { comparison: comparison.rows } : {}),
    meta: {
      source: main.plan.source,
      cached: false,
      cache: "none",
      took_ms: Math.round(performance.now() - started),
      ...(main.total_rows !== undefined ? { total_rows: main.total_rows } : {}),
      plan: main.plan.reason,
      ...(comparison?.why ? { comparison_unavailable: comparison.why } : {}),
      ...(q.include.currency ? { currency: q.include.currency, other_currencies: main.other_currencies ?? [] } : {}),
    },
    query: publicQuery(q),
  };
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
  const q = normaliseQuery(spec, {
    propertyTimezone: property.timezone,
    createdAt: property.created_at,
    now,
    goals,
    propertyCurrency: propertyCurrency(property),
  });
  const plan = planQuery(q, now, loadConfig(env).HOT_RETENTION_DAYS);
  // Live answers are the actor's current minute: caching them would only make them stale.
  if (plan.source === "live") return answer(env, q, plan, now, started);
  // Revenue without a currency tag counts in the property's currency: a change of it is a new question.
  const question = {
    query: publicQuery(q),
    goals: q.goals,
    ...(q.include.currency ? { propertyCurrency: q.propertyCurrency } : {}),
  };
  const result = await cached(
    env,
    { property: q.property_id, question, rangeEnd: q.to, now },
    options,
    async (cache) => {
      const response = await answer(env, q, plan, now, started);
      return { ...response, meta: { ...response.meta, cache } };
    },
  );
  if (!result.hit) return result.value;
  return {
    ...result.value,
    meta: { ...result.value.meta, cached: true, took_ms: Math.round(performance.now() - started) },
  };
}
