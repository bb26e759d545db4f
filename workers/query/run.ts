/**
 * The query language, end to end and in this order: validate (route) → normalise → plan → build
 * SQL → run (engine.ts) → shape. Every number the dashboard and the reports show passes through `runQuery`.
 */
import type { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import type { QueryResponseSchema } from "../../core/openapi.ts";
import { dataStart, propertyCurrency } from "../../core/property/property.ts";
import { liveRows } from "../../core/query/live.ts";
import { mergeAnswers, mixedParts } from "../../core/query/merge.ts";
import {
  comparisonOf,
  type NormalisedQuery,
  normaliseQuery,
  publicQuery,
  type ResolvedQuery,
} from "../../core/query/normalise.ts";
import { beyondHotRetention, type Plan, planClickHouse, planQuery, planWarehouse } from "../../core/query/plan.ts";
import { type ResultRow, type Shaped, shapeRows } from "../../core/query/shape.ts";
import { GOAL_DIMENSION, type QuerySpec, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { within } from "../../core/query/warehouse-parts.ts";
import { buildWarehouseSql, withOtherCurrencies } from "../../core/query/warehouse-sql.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { cached, type RunOptions, storeFor, type WarehouseLink, withWarehouseLink } from "./engine.ts";

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

/** What executing a question needs besides the query: the bindings, the clock and the warehouse. */
interface Exec {
  env: Env;
  now: number;
  link: WarehouseLink;
  charge: RunOptions["charge"];
}

/** build → run → shape for one resolved query and its plan (not mixed). */
async function executeOne(x: Exec, q: ResolvedQuery, plan: Plan): Promise<Shaped> {
  const store = storeFor(x.env, q.property_id, plan, x.now, x.link, x.charge);
  if (plan.source === "live") return shapeRows(q, liveRows(q, await store.windows()), false);
  if (plan.source === "warehouse") {
    const built = buildWarehouseSql(q, plan, plan.historyFrom);
    const [rows, currencies] = await Promise.all([
      store.warehouse(built.main),
      built.currencies ? store.warehouse(built.currencies) : null,
    ]);
    return shapeRows(q, withOtherCurrencies(rows, currencies), built.gapFill === null);
  }
  const built = buildQuerySql(q, plan);
  return shapeRows(q, await store.rows(built), built.gapFill === null);
}

/** A range across the warehouse's boundary: each part question from both stores, merged (core/query/merge.ts). */
async function executeMixed(x: Exec, q: ResolvedQuery, plan: Plan, boundary: number): Promise<Shaped> {
  storeFor(x.env, q.property_id, plan, x.now, x.link); // 501 here when no warehouse is connected
  const hot = loadConfig(x.env).HOT_RETENTION_DAYS;
  const parts = mixedParts(q);
  const side = (from: number, to: number, planOf: (pq: ResolvedQuery) => Plan) =>
    Promise.all(
      parts.map((part) => {
        const pq = within(part.query, from, to);
        return executeOne(x, pq, planOf(pq));
      }),
    );
  const answers = await Promise.all([
    side(q.from, boundary, (pq) => planWarehouse(pq, plan.reason)),
    side(boundary, q.to, (pq) => planClickHouse(pq, x.now, hot)),
  ]);
  return mergeAnswers(q, parts, answers);
}

/** Plans a query, reading how far the warehouse is loaded only when the range reaches beyond the hot retention. */
async function plan(x: Exec, q: ResolvedQuery): Promise<Plan> {
  const hot = loadConfig(x.env).HOT_RETENTION_DAYS;
  const cold = beyondHotRetention(q.from, x.now, hot) !== null;
  return planQuery(q, x.now, hot, cold ? await x.link.through() : null);
}

async function execute(x: Exec, q: ResolvedQuery, p: Plan): Promise<Executed> {
  const shaped =
    p.source === "mixed" && p.boundary ? await executeMixed(x, q, p, p.boundary) : await executeOne(x, q, p);
  return { ...shaped, plan: p };
}

/** The comparison period, planned by the same rules, or why it cannot be answered. */
async function executeComparison(x: Exec, q: ResolvedQuery) {
  const previous = comparisonOf(q);
  if (!previous) return undefined;
  try {
    return { rows: (await execute(x, previous, await plan(x, previous))).results };
  } catch (error) {
    if (error instanceof AppError && error.code === "warehouse_unavailable") return { rows: null, why: error.message };
    throw error;
  }
}

async function answer(x: Exec, q: ResolvedQuery, p: Plan, started: number): Promise<QueryResponse> {
  const [main, comparison] = await Promise.all([execute(x, q, p), executeComparison(x, q)]);
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
    createdAt: dataStart(property),
    now,
    goals,
    propertyCurrency: propertyCurrency(property),
  });
  return withWarehouseLink(env, options, async (link) => {
    const x: Exec = { env, now, link, charge: options.charge };
    const p = await plan(x, q);
    // Live answers are the actor's current minute: caching them would only make them stale.
    if (p.source === "live") return answer(x, q, p, started);
    // Revenue without a currency tag counts in the property's currency: a change of it is a new question.
    // A cold range's answer depends on how far the warehouse is loaded: a new hour is a new question.
    const question = {
      query: publicQuery(q),
      goals: q.goals,
      ...(q.include.currency ? { propertyCurrency: q.propertyCurrency } : {}),
      ...(p.boundary ? { warehouseThrough: p.boundary } : {}),
    };
    const result = await cached(
      env,
      { property: q.property_id, question, rangeEnd: q.to, now },
      options,
      async (cache) => {
        const response = await answer(x, q, p, started);
        return { ...response, meta: { ...response.meta, cache } };
      },
    );
    if (!result.hit) return result.value;
    return {
      ...result.value,
      meta: { ...result.value.meta, cached: true, took_ms: Math.round(performance.now() - started) },
    };
  });
}
