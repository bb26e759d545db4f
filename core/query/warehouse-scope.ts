/**
 * What every part of a warehouse statement shares: the Kysely compiler (PostgreSQL dialect, no
 * driver: core/ only builds, workers/query/engine.ts runs), the scope of one question, and the SQL
 * every builder writes the same way. Portable to Redshift: no FILTER clause, no DISTINCT ON, no
 * arrays, no PostgreSQL-only functions; time zones with `AT TIME ZONE`, which both have.
 */
import {
  type CompiledQuery,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type RawBuilder,
  sql,
} from "kysely";
import type { WarehouseDatabase } from "../warehouse/schema.ts";
import type { ResolvedQuery } from "./normalise.ts";

export type Fragment = RawBuilder<unknown>;
export type { CompiledQuery };

/** Compiles only: its driver never connects. */
export const compiler = new Kysely<WarehouseDatabase>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

export const compile = (fragment: Fragment): CompiledQuery => fragment.compile(compiler);

/**
 * An instant as a TIMESTAMP (the warehouse keeps UTC without a zone). Sent as text and cast, never
 * as a JS Date: node-postgres would write a Date in the process's zone, which a TIMESTAMP drops.
 */
export function at(ms: number): Fragment {
  const text = new Date(ms).toISOString().replace("T", " ").replace("Z", "");
  return sql`CAST(${text} AS TIMESTAMP)`;
}

/** One question's scope: the resolved query and how far back `visit:visitor_type` looks. */
export interface WarehouseScope {
  q: ResolvedQuery;
  /** The warehouse keeps all history: a visitor is returning when any earlier session exists (from here). */
  historyFrom: number;
}

/** A custom map's value as text ('' when absent: Redshift answers '' and PostgreSQL NULL). */
export const mapText = (column: "custom_dimensions" | "custom_metrics", key: string): Fragment =>
  sql`COALESCE(JSON_EXTRACT_PATH_TEXT(${sql.ref(column)}, ${key}), '')`;

/** A custom metric as a number, 0 when absent (ClickHouse's map default). */
export const metricValue = (key: string): Fragment =>
  sql`COALESCE(CAST(NULLIF(${mapText("custom_metrics", key)}, '') AS DOUBLE PRECISION), 0)`;

/** `round(if(b = 0, 0, a / b), digits)`, as ClickHouse's outer select computes ratios. */
export function ratio(a: Fragment, b: Fragment, digits: number): Fragment {
  const quotient = sql`CASE WHEN ${b} = 0 THEN 0 ELSE CAST(${a} AS DOUBLE PRECISION) / ${b} END`;
  // ROUND(x, n) takes a DECIMAL on both engines; Redshift's bare DECIMAL has scale 0, so it is spelled out.
  return sql`ROUND(CAST(${quotient} AS DECIMAL(38, 10)), ${sql.lit(digits)})`;
}
