/**
 * The warehouse's tables (migrations/warehouse/), one definition: each column's portable SQL type,
 * from which the row types Kysely checks every statement against are derived. A contract test holds
 * the migrations to these maps (test/integration/warehouse-contract.test.ts), and the `events` and
 * `sessions` maps to ClickHouse's columns of the same names (core/clickhouse-row.ts).
 */
import type { EVENT_COLUMNS, SESSION_COLUMNS } from "../clickhouse-row.ts";

/** Portable column kinds: what PostgreSQL and Redshift both call them (maps are JSON text). */
export type ColumnKind = "text" | "timestamp" | "date" | "boolean" | "bigint" | "integer" | "json";
type Nullable<K extends ColumnKind> = { kind: K; nullable: true };
type ColumnDef = ColumnKind | Nullable<ColumnKind>;

/** Values as the warehouse client returns them (platform/warehouse.ts sets the parsers): BIGINT as numbers, TIMESTAMP as UTC Dates, DATE as `YYYY-MM-DD`. */
type ValueOf<K extends ColumnKind> = K extends "text" | "date"
  ? string
  : K extends "timestamp"
    ? Date
    : K extends "boolean"
      ? boolean
      : K extends "json"
        ? string
        : number;
type RowOf<T extends Record<string, ColumnDef>> = {
  [C in keyof T]: T[C] extends Nullable<infer K> ? ValueOf<K> | null : T[C] extends ColumnKind ? ValueOf<T[C]> : never;
};

const nullable = <K extends ColumnKind>(kind: K): Nullable<K> => ({ kind, nullable: true });

/** ClickHouse types → warehouse kinds, for the events and sessions tables both stores hold. */
type FromClickHouse<T extends Record<string, string>> = {
  [C in keyof T]: T[C] extends `DateTime64${string}`
    ? "timestamp"
    : T[C] extends "Bool"
      ? "boolean"
      : T[C] extends `UInt${string}` | `Int${string}`
        ? "bigint"
        : T[C] extends `Map${string}`
          ? "json"
          : "text";
};
/** The kind a ClickHouse column has in the warehouse (the contract test applies it to every column). */
export function kindOfClickHouseType(type: string): ColumnKind {
  if (type.startsWith("DateTime64")) return "timestamp";
  if (type === "Bool") return "boolean";
  if (/^U?Int/.test(type)) return "bigint";
  if (type.startsWith("Map")) return "json";
  return "text";
}

const PERIOD_METRICS = {
  dimension: "text",
  value: "text",
  visitors: "bigint",
  visits: "bigint",
  pageviews: "bigint",
  events: "bigint",
  bounces: "bigint",
  duration_seconds: "bigint",
} as const;

export const WAREHOUSE_TABLES = {
  job_runs: {
    job: "text",
    period_start: "timestamp",
    period_end: "timestamp",
    status: "text",
    started_at: "timestamp",
    finished_at: nullable("timestamp"),
    rows_written: "bigint",
    detail: "text",
  },
  data_quality: {
    property_id: "text",
    hour: "timestamp",
    archive_events: "bigint",
    clickhouse_events: nullable("bigint"),
    warehouse_events: "bigint",
    ok: "boolean",
    checked_at: "timestamp",
  },
  daily_metrics: { property_id: "text", day: "date", ...PERIOD_METRICS },
  weekly_reports: { property_id: "text", week_start: "date", ...PERIOD_METRICS },
  monthly_reports: { property_id: "text", month_start: "date", ...PERIOD_METRICS },
  user_cohorts: { property_id: "text", cohort_week: "date", week_offset: "integer", visitors: "bigint" },
  conversion_funnels: {
    property_id: "text",
    funnel_id: "text",
    day: "date",
    step: "integer",
    step_name: "text",
    visitors: "bigint",
  },
} as const;

/** The row types of every warehouse table: Kysely's database type (platform/warehouse.ts). */
export type WarehouseDatabase = {
  events: RowOf<FromClickHouse<typeof EVENT_COLUMNS>>;
  sessions: RowOf<FromClickHouse<typeof SESSION_COLUMNS>>;
} & { [T in keyof typeof WAREHOUSE_TABLES]: RowOf<(typeof WAREHOUSE_TABLES)[T]> };

export type WarehouseEventRow = WarehouseDatabase["events"];
export type WarehouseSessionRow = WarehouseDatabase["sessions"];

/** Dimensions the period aggregates keep (the `dimension` column), besides the totals (''). */
export const AGGREGATE_DIMENSIONS = [
  "event:page",
  "visit:source",
  "visit:channel",
  "visit:referrer",
  "visit:entry_page",
  "visit:country",
  "visit:device",
  "visit:browser",
  "visit:os",
] as const;
