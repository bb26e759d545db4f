/**
 * The warehouse client: Kysely over node-postgres, for PostgreSQL (the embedded dev and test
 * server) and Redshift (its wire protocol is PostgreSQL's). Workers reach it over TCP sockets
 * (`nodejs_compat`); in production through Hyperdrive, whose connection string goes in
 * WAREHOUSE_URL. Every statement is built with Kysely against core/warehouse/schema.ts.
 */
import type { Duplex } from "node:stream";
import { Kysely, type LogEvent, PostgresDialect } from "kysely";
import pg from "pg";
import * as pgCloudflare from "pg-cloudflare";
import type { WarehouseDatabase } from "../core/warehouse/schema.ts";
import { countMetric, observeMetric } from "./ops-metrics.ts";

export type Warehouse = Kysely<WarehouseDatabase>;

const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMP = 1114;
const DATE = 1082;

/**
 * Values as core/warehouse/schema.ts types them: counts (BIGINT, NUMERIC sums) as numbers — every
 * count we keep is far below 2^53 — TIMESTAMP (stored as UTC) as a Date in UTC whatever the
 * process's zone, DATE as its `YYYY-MM-DD` text.
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    if (oid === TIMESTAMP) return (v: string) => new Date(`${v.replace(" ", "T")}Z`);
    if (oid === DATE) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
};

// TIMESTAMP columns hold UTC wall time: pg would write a Date in the process's zone (workerd's is
// UTC; a CLI or bench on a machine in another zone is not).
pg.defaults.parseInputDatesAsUTC = true;

/**
 * NOTE: pg finds its workerd socket by `require("pg-cloudflare")`, which resolves to an empty stub
 * unless the resolver knows the `workerd` condition — true of wrangler's bundle, not of the vitest
 * pool's module fallback (CloudflareSocket is not a constructor). So the socket is imported here, as
 * ESM (which every bundler resolves under `workerd`), and handed to pg. In Node the import is the
 * stub and pg uses node:net. pg-cloudflare emits `error` when a socket it closed is read once more;
 * with nobody listening that would be an uncaught exception, so a quiet listener stays attached
 * (pg's own listener still receives every error while the connection is in use).
 */
const CloudflareSocket = (pgCloudflare as { CloudflareSocket?: new (ssl: unknown) => Duplex }).CloudflareSocket;
const inWorkerd = typeof navigator !== "undefined" && navigator.userAgent === "Cloudflare-Workers";
const workerdStream =
  inWorkerd && CloudflareSocket
    ? (config: { ssl?: unknown }): Duplex => {
        const socket = new CloudflareSocket(config.ssl);
        socket.on("error", () => undefined);
        return socket;
      }
    : undefined;

/** Every statement's latency, and its failure, as pipeline metrics (Kysely reports both here). */
function measure(event: LogEvent): void {
  observeMetric("warehouse_ms", event.queryDurationMillis);
  if (event.level === "error") countMetric("warehouse_errors");
}

export interface WarehouseOptions {
  max?: number;
  /**
   * The server cancels any statement running longer (PostgreSQL's `statement_timeout`, sent when
   * each connection starts): the query API's bound. Redshift also takes it; its WLM query
   * monitoring rules bound queries from other clients too. Unset: no limit (the load jobs).
   */
  statementTimeoutMs?: number;
}

/**
 * A client for one unit of work: a Worker request or job opens it and destroys it when done
 * (sockets cannot outlive the request that opened them). `max` connections run statements in
 * parallel (the query API's legs); jobs use one.
 */
export function openWarehouse(url: string, options: WarehouseOptions = {}): Warehouse {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 4,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    types,
    ...(workerdStream ? { stream: workerdStream as () => Duplex } : {}),
  });
  // An idle connection that fails (the server restarted; workerd closing a socket as the pool ends
  // it) is dropped by the pool, which then emits `error`: unheard, that would crash the isolate.
  pool.on("error", () => undefined);
  return new Kysely<WarehouseDatabase>({ dialect: new PostgresDialect({ pool }), log: measure });
}

/** Runs `work` with a client and closes it after, whatever happened. */
export async function withWarehouse<T>(
  url: string,
  work: (db: Warehouse) => Promise<T>,
  options: WarehouseOptions = {},
): Promise<T> {
  const db = openWarehouse(url, options);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (Redshift uses it too). */
export const QUERY_CANCELED = "57014";

/** Whether a warehouse error is a statement cancelled for running past its timeout. */
export function isStatementTimeout(error: unknown): boolean {
  return sqlState(error) === QUERY_CANCELED;
}

/** PostgreSQL's SQLSTATE for a regular expression it cannot compile (a `matches` filter's pattern). */
export const INVALID_REGULAR_EXPRESSION = "2201B";

/** A warehouse error's SQLSTATE, or "". */
export function sqlState(error: unknown): string {
  return typeof error === "object" && error !== null && "code" in error ? String(error.code) : "";
}
