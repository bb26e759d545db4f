/**
 * ClickHouse clients, one per isolate and configuration (the official web client works in workerd):
 * the writing user's, for the consumer and the jobs, and the query API's read-only one.
 */
import { type ClickHouseClient, type ClickHouseSettings, createClient } from "@clickhouse/client-web";
import {
  clusterInsertSettings,
  clusterQuerySettings,
  clusterStatementSettings,
  forCluster,
} from "../core/clickhouse/cluster.ts";
import type { Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";

const clients = new WeakMap<Config, ClickHouseClient>();
const queryClients = new WeakMap<Config, ClickHouseClient>();

function connect(config: Config, username: string, password: string, timeoutMs: number): ClickHouseClient {
  return createClient({
    url: config.CLICKHOUSE_URL,
    username,
    password,
    database: config.CLICKHOUSE_DATABASE,
    // workerd rejects fetch's `keepalive` flag; connection reuse is the runtime's business.
    keep_alive: { enabled: false },
    request_timeout: timeoutMs,
  });
}

export function clickHouseClient(config: Config): ClickHouseClient {
  let client = clients.get(config);
  if (!client) {
    client = connect(config, config.CLICKHOUSE_USER, config.CLICKHOUSE_PASSWORD, 30_000);
    clients.set(config, client);
  }
  return client;
}

/** One of Tally's runtime statements that is not a plain SELECT or a client insert (a DELETE, an ALTER, an INSERT … SELECT). */
export interface ClickHouseStatement {
  sql: string;
  params?: Record<string, unknown>;
  settings?: ClickHouseSettings;
}

/**
 * Runs a runtime statement as the writing user, as CLICKHOUSE_CLUSTER needs it
 * (core/clickhouse/cluster.ts): on a cluster, deletes and ALTERs go ON CLUSTER to the `_local`
 * tables (answering only once every host has) and an INSERT … SELECT is a synchronous Distributed
 * insert; a statement it does not know
 * is refused before anything is sent. Every such statement goes through here, so none can forget.
 */
export async function clickHouseCommand(config: Config, statement: ClickHouseStatement): Promise<void> {
  const cluster = config.CLICKHOUSE_CLUSTER;
  const query = forCluster(cluster, statement.sql);
  const settings = { ...statement.settings, ...clusterStatementSettings(cluster, statement.sql) };
  await clickHouseClient(config).command({
    query,
    ...(statement.params ? { query_params: statement.params } : {}),
    ...(Object.keys(settings).length > 0 ? { clickhouse_settings: settings } : {}),
  });
}

/** Settings every client insert (`client.insert`) adds for CLICKHOUSE_CLUSTER: none without one. */
export function insertSettings(config: Config): ClickHouseSettings {
  return clusterInsertSettings(config.CLICKHOUSE_CLUSTER);
}

/**
 * The query API's client: CLICKHOUSE_QUERY_USER (read-only, its limits in its settings profile)
 * when configured, else the writing user. Pair every query with `querySettings`.
 */
export function queryClickHouseClient(config: Config): ClickHouseClient {
  let client = queryClients.get(config);
  if (!client) {
    const dedicated = config.CLICKHOUSE_QUERY_USER !== "";
    // A little past the server's own limit, so its TIMEOUT_EXCEEDED (a clear answer) comes first.
    const timeoutMs = (config.QUERY_MAX_EXECUTION_SECONDS + 5) * 1000;
    client = dedicated
      ? connect(config, config.CLICKHOUSE_QUERY_USER, config.CLICKHOUSE_QUERY_PASSWORD, timeoutMs)
      : connect(config, config.CLICKHOUSE_USER, config.CLICKHOUSE_PASSWORD, timeoutMs);
    queryClients.set(config, client);
  }
  return client;
}

/**
 * Per-statement limits sent with every query-API statement. A dedicated user's profile holds
 * `readonly` itself (a profile's readonly may forbid even sending it); with the writing user,
 * `readonly = 2` refuses writes and DDL while still taking these settings. On a cluster, the
 * subqueries read each shard's own tables (core/clickhouse/cluster.ts clusterQuerySettings); the
 * query user's profile (readonly = 2, no constraint on it) lets it send that.
 */
export function querySettings(config: Config): ClickHouseSettings {
  return {
    ...(config.CLICKHOUSE_QUERY_USER === "" ? { readonly: "2" } : {}),
    ...clusterQuerySettings(config.CLICKHOUSE_CLUSTER),
    max_execution_time: config.QUERY_MAX_EXECUTION_SECONDS,
    max_memory_usage: String(config.QUERY_MAX_MEMORY_BYTES),
    max_result_rows: String(config.QUERY_MAX_RESULT_ROWS),
    result_overflow_mode: "throw",
  };
}

const CANNOT_COMPILE_REGEXP = "427";

/** ClickHouse's codes for a statement that hit one of the query limits. */
const LIMIT_ERRORS: Record<string, { code: string; status: number; why: (c: Config) => string }> = {
  "159": {
    code: "query_timeout",
    status: 503,
    why: (c) => `ran longer than ${c.QUERY_MAX_EXECUTION_SECONDS} s; narrow the date range or the dimensions`,
  },
  "241": {
    code: "query_too_large",
    status: 503,
    why: (c) => `needed more than ${c.QUERY_MAX_MEMORY_BYTES} bytes of memory; narrow the date range or the dimensions`,
  },
  "396": {
    code: "query_too_large",
    status: 400,
    why: (c) => `would return more than ${c.QUERY_MAX_RESULT_ROWS} rows; add filters or fewer dimensions`,
  },
};

/**
 * A query-API statement's failure as the user should see it: a limit hit, a pattern RE2 refuses
 * or ClickHouse out of reach is a clear AppError (4xx, or 503 with Retry-After); anything else is
 * rethrown as it was.
 */
export function queryFailure(error: unknown, config: Config): unknown {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
  if (code === CANNOT_COMPILE_REGEXP) {
    // JavaScript's RegExp (which validated the filter) takes some patterns RE2 does not.
    const why = /cannot compile re2: (.*?), error: ([^.]*)/.exec(error instanceof Error ? error.message : "");
    const detail = why
      ? `${JSON.stringify(why[1])} is not a valid RE2 pattern (${why[2]})`
      : "a pattern is not valid RE2";
    return new AppError("invalid_query", 400, `filters: ${detail}`, { cause: error });
  }
  const limit = Object.hasOwn(LIMIT_ERRORS, code) ? LIMIT_ERRORS[code] : undefined;
  if (limit) {
    const retry = limit.status === 503 ? { retryAfterSeconds: 60 } : {};
    return new AppError(limit.code, limit.status, `query: ${limit.why(config)}`, { cause: error, ...retry });
  }
  if (error instanceof Error && /timeout/i.test(error.message) && !(error instanceof AppError))
    return new AppError("query_timeout", 503, `query: ClickHouse did not answer in time`, {
      cause: error,
      retryAfterSeconds: 60,
    });
  // fetch's own failure (refused, reset; workerd says "Network connection lost"): ClickHouse is
  // down for now, the question is fine.
  if (error instanceof TypeError || (error instanceof Error && /network connection|fetch failed/i.test(error.message)))
    return new AppError("clickhouse_unavailable", 503, `query: ClickHouse cannot be reached (${error.message})`, {
      cause: error,
      retryAfterSeconds: 30,
    });
  return error;
}
