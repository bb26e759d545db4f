/**
 * The query pipeline's one executor and one cache wrapper. Every question — the query language,
 * every report, funnels, retention and the bot audit — is validated, normalised and planned
 * (core/query/plan.ts), built into statements by a pure builder in core/query/, and run here, so
 * the routing rules (live actor, ClickHouse, warehouse) apply to all of them alike.
 */
import { AppError } from "../../core/errors.ts";
import type { Plan } from "../../core/query/plan.ts";
import type { StoredWindow } from "../../core/session/window.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyStub } from "../../platform/properties.ts";
import {
  cacheKey,
  type DataVersion,
  entryTtlSeconds,
  type QueryCache,
  queryCache,
  scopeFor,
} from "../../platform/query-cache.ts";

/** One statement from a builder in core/query/: values only as `{name:Type}` parameters. */
export interface Statement {
  sql: string;
  params: Record<string, unknown>;
  settings?: Record<string, number>;
}
export type Row = Record<string, unknown>;

/** What a plan's store is asked: statements for ClickHouse, or the actor's minute windows. */
export interface Store {
  rows(statement: Statement): Promise<Row[]>;
  windows(): Promise<StoredWindow[]>;
}

export interface RunOptions {
  /** waitUntil: cache writes leave after the answer. */
  defer?: (work: Promise<unknown>) => void;
  /** `Cache-Control: no-cache`: do not answer from the cache (the fresh answer is still stored). */
  fresh?: boolean;
  /**
   * The property's data versions (PropertyDO.admitQuery). Without them nothing is cached: an entry
   * no version keys could outlive new data.
   */
  data?: DataVersion;
}

/**
 * The store a plan chose, for one property. The warehouse is not connected yet: a plan for it
 * fails here, in one place, as `501 warehouse_unavailable` naming why the range went there.
 */
export function storeFor(env: Env, propertyId: string, plan: Plan, now: number): Store {
  if (plan.source === "warehouse")
    throw new AppError(
      "warehouse_unavailable",
      501,
      `date_range: ${plan.reason}; ranges older than the hot retention are answered by the warehouse, which is not connected yet`,
    );
  return {
    async rows(statement) {
      const result = await clickHouseClient(loadConfig(env)).query({
        query: statement.sql,
        query_params: statement.params,
        format: "JSONEachRow",
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...statement.settings },
      });
      return result.json<Row>();
    },
    windows: () => propertyStub(env, propertyId).storedWindows(now),
  };
}

/** An answer and where it came from. */
export interface Cached<T> {
  value: T;
  hit: boolean;
  cache: QueryCache["kind"];
}

/**
 * Answers from the cache, or computes and stores the answer. The key holds the property id, so no
 * entry crosses properties, and the data version the range depends on, so new data is a new key;
 * the entry lives as long as entryTtlSeconds allows (a second while that version is settling).
 */
export async function cached<T>(
  env: Env,
  key: { property: string; question: unknown; rangeEnd: number; now: number },
  options: RunOptions,
  compute: (cache: QueryCache["kind"]) => Promise<T>,
): Promise<Cached<T>> {
  const cache = queryCache(env);
  const { data } = options;
  if (!data) return { value: await compute(cache.kind), hit: false, cache: cache.kind };
  const scope = scopeFor(data, key.rangeEnd, key.now);
  const id = await cacheKey(key.property, { question: key.question, data: scope.version });
  const hit = options.fresh ? undefined : await cache.get<T>(id);
  if (hit !== undefined) return { value: hit, hit: true, cache: cache.kind };
  const value = await compute(cache.kind);
  const write = cache.put(id, value, entryTtlSeconds(key.rangeEnd, key.now, scope.age_ms));
  if (options.defer) options.defer(write);
  else await write;
  return { value, hit: false, cache: cache.kind };
}
