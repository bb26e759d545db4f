/**
 * The query pipeline's one executor and one cache wrapper. Every question — the query language,
 * every report, funnels, retention and the bot audit — is validated, normalised and planned
 * (core/query/plan.ts), built into statements by a pure builder in core/query/, and run here, so
 * the routing rules (live actor, ClickHouse, warehouse) apply to all of them alike.
 */
import type { CompiledQuery } from "kysely";
import { AppError } from "../../core/errors.ts";
import { beyondHotRetention, type Plan, planRawQuestion, type RawQuestion } from "../../core/query/plan.ts";
import { warehouseThrough, warehouseThroughSql } from "../../core/query/warehouse-sql.ts";
import type { StoredWindow } from "../../core/session/window.ts";
import { queryClickHouseClient, queryFailure, querySettings } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { timed } from "../../platform/ops-metrics.ts";
import { propertyStub } from "../../platform/properties.ts";
import {
  cacheKey,
  type DataVersion,
  entryTtlSeconds,
  type QueryCache,
  queryCache,
  scopeFor,
} from "../../platform/query-cache.ts";
import {
  INVALID_REGULAR_EXPRESSION,
  isStatementTimeout,
  openWarehouse,
  sqlState,
  type Warehouse,
} from "../../platform/warehouse.ts";

/** One statement from a builder in core/query/: values only as `{name:Type}` parameters. */
export interface Statement {
  sql: string;
  params: Record<string, unknown>;
  settings?: Record<string, number>;
}
export type Row = Record<string, unknown>;

/** What a plan's store is asked: statements for ClickHouse or the warehouse, or the actor's minute windows. */
export interface Store {
  rows(statement: Statement): Promise<Row[]>;
  windows(): Promise<StoredWindow[]>;
  warehouse(statement: CompiledQuery): Promise<Row[]>;
}

export interface RunOptions {
  /** waitUntil: cache writes (and the warehouse's closing) leave after the answer. */
  defer?: (work: Promise<unknown>) => void;
  /** `Cache-Control: no-cache`: do not answer from the cache (the fresh answer is still stored). */
  fresh?: boolean;
  /**
   * The property's data versions (PropertyDO.admitQuery). Without them nothing is cached: an entry
   * no version keys could outlive new data.
   */
  data?: DataVersion;
  /**
   * Charges the property's quota one unit before each statement a store runs (a 429 when it is
   * spent), so a report of many statements costs what it runs; answers from the cache cost nothing.
   */
  charge?: () => Promise<void>;
}

/**
 * The warehouse for one request, connected on first use (most questions never reach it) and
 * closed by `close` (sockets cannot outlive the request). `through`: the end of the last hour the
 * load job finished, read once, null when none is (or no warehouse is configured).
 */
export interface WarehouseLink {
  configured: boolean;
  rows(statement: CompiledQuery): Promise<Row[]>;
  through(): Promise<number | null>;
  close(): Promise<void>;
}

export function warehouseLink(env: Env): WarehouseLink {
  const config = loadConfig(env);
  const url = config.WAREHOUSE_URL;
  let db: Warehouse | undefined;
  let through: Promise<number | null> | undefined;
  const connect = () => {
    if (!url) throw new Error("no warehouse is configured");
    db ??= openWarehouse(url, { statementTimeoutMs: config.QUERY_MAX_EXECUTION_SECONDS * 1000 });
    return db;
  };
  const rows = async (statement: CompiledQuery) => {
    try {
      return (await connect().executeQuery<Row>(statement)).rows;
    } catch (error) {
      if (sqlState(error) === INVALID_REGULAR_EXPRESSION)
        throw new AppError(
          "invalid_query",
          400,
          `filters: a matches pattern is not a valid regular expression (${String(error)})`,
          {
            cause: error,
          },
        );
      if (!isStatementTimeout(error)) throw error;
      throw new AppError(
        "query_timeout",
        503,
        `query: the warehouse ran longer than ${config.QUERY_MAX_EXECUTION_SECONDS} s; narrow the date range or the dimensions`,
        { cause: error, retryAfterSeconds: 60 },
      );
    }
  };
  return {
    configured: url !== "",
    rows,
    through() {
      // A warehouse down is the old part unavailable for now (503), not a broken query.
      const unreachable = (error: unknown): never => {
        throw new AppError(
          "warehouse_unavailable",
          503,
          `date_range: the warehouse cannot be reached (${String(error)})`,
        );
      };
      through ??= url
        ? rows(warehouseThroughSql()).then(([row]) => warehouseThrough(row), unreachable)
        : Promise.resolve(null);
      return through;
    },
    async close() {
      const open = db;
      db = undefined;
      await open?.destroy();
    },
  };
}

/** Runs `work` with a warehouse link, closed after it (in waitUntil when the route gives one). */
export async function withWarehouseLink<T>(
  env: Env,
  options: RunOptions,
  work: (link: WarehouseLink) => Promise<T>,
): Promise<T> {
  const link = warehouseLink(env);
  try {
    return await work(link);
  } finally {
    const closing = link.close();
    if (options.defer) options.defer(closing);
    else await closing;
  }
}

const QUERY = { op: "query" } as const;

/**
 * The store a plan chose, for one property. Plans reach the warehouse only once it has a frontier,
 * which only a configured warehouse has (core/query/warehouse-plan.ts routeCold).
 */
export function storeFor(
  env: Env,
  propertyId: string,
  plan: Plan,
  now: number,
  link?: WarehouseLink,
  charge?: RunOptions["charge"],
): Store {
  const cold = plan.source === "warehouse" || plan.source === "mixed";
  if (cold && !link?.configured) throw new Error(`a ${plan.source} plan was made without a configured warehouse`);
  const config = loadConfig(env);
  return {
    async rows(statement) {
      await charge?.();
      try {
        return await timed("clickhouse_ms", "clickhouse_errors", QUERY, async () => {
          const result = await queryClickHouseClient(config).query({
            query: statement.sql,
            query_params: statement.params,
            format: "JSONEachRow",
            // The statement's own settings first: the limits are not the builder's to lift.
            clickhouse_settings: {
              output_format_json_quote_64bit_integers: 0,
              ...statement.settings,
              ...querySettings(config),
            },
          });
          return await result.json<Row>();
        });
      } catch (error) {
        throw queryFailure(error, config);
      }
    },
    windows: () => propertyStub(env, propertyId).storedWindows(now),
    async warehouse(statement) {
      if (!link) throw new Error("this question was not given the warehouse");
      await charge?.();
      return link.rows(statement);
    },
  };
}

/**
 * A funnel, retention or bot audit, planned (core/query/plan.ts `planRawQuestion`): the store
 * that answers it, and the range it answers — the asked range, or beyond the hot retention the
 * part up to the warehouse's boundary when the range reaches past it (`plan.reason` says so).
 */
export interface RawRun {
  plan: Plan;
  range: { from: number; to: number };
  /** Runs the question's ClickHouse or warehouse statement, whichever the plan chose (built only then). */
  rows(build: { clickhouse: () => Statement; warehouse: () => CompiledQuery }): Promise<Row[]>;
}

/**
 * Plans a funnel, retention or bot audit over `range` and binds its store. A range no store can
 * answer (beyond the hot retention with no warehouse, or nothing loaded yet) fails here as
 * `501 warehouse_unavailable` (storeFor).
 */
export async function rawRunFor(
  env: Env,
  propertyId: string,
  kind: RawQuestion,
  range: { from: number; to: number },
  now: number,
  link: WarehouseLink,
  charge?: RunOptions["charge"],
): Promise<RawRun> {
  const hot = loadConfig(env).HOT_RETENTION_DAYS;
  // The ledger is read only for a range the hot retention does not hold.
  const through = beyondHotRetention(range.from, now, hot) && link.configured ? await link.through() : null;
  const plan = planRawQuestion(kind, range, now, hot, through);
  const store = storeFor(env, propertyId, plan, now, link, charge);
  const warehouse = plan.source === "warehouse";
  const to = warehouse && plan.boundary !== undefined ? Math.min(range.to, plan.boundary) : range.to;
  return {
    plan,
    range: { from: range.from, to },
    rows: (build) => (warehouse ? store.warehouse(build.warehouse()) : store.rows(build.clickhouse())),
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
