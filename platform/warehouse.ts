/**
 * The warehouse client: Kysely over node-postgres, for PostgreSQL (the embedded dev and test
 * server) and Redshift (its wire protocol is PostgreSQL's). Workers reach it over TCP sockets
 * (`nodejs_compat`); in production through Hyperdrive, whose connection string goes in
 * WAREHOUSE_URL. Every statement is built with Kysely against core/warehouse/schema.ts.
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { WarehouseDatabase } from "../core/warehouse/schema.ts";

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

/**
 * A client for one unit of work: a Worker request or job opens it and destroys it when done
 * (sockets cannot outlive the request that opened them). `max` connections run statements in
 * parallel (the query API's legs); jobs use one.
 */
export function openWarehouse(url: string, options: { max?: number } = {}): Warehouse {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 4, types });
  return new Kysely<WarehouseDatabase>({ dialect: new PostgresDialect({ pool }) });
}

/** Runs `work` with a client and closes it after, whatever happened. */
export async function withWarehouse<T>(
  url: string,
  work: (db: Warehouse) => Promise<T>,
  options: { max?: number } = {},
): Promise<T> {
  const db = openWarehouse(url, options);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}
