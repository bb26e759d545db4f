/**
 * ClickHouse's retention TTLs (issue #17), pure: what each table forgets and when, as the
 * statements migration 0008 applies with the default days, and the statements that bring a
 * database to the configured days. TTL expressions are constants in ClickHouse's DDL, so a
 * configuration other than the defaults is applied by the Cron Trigger (consumers/
 * privacy-retention.ts, applyClickHouseTtls): it reads each table's DDL (TABLE_DDL_SQL) and re-issues only the TTLs
 * that differ — a MODIFY TTL rewrites the table's parts, so it must not run when nothing changed.
 */

/** The days each kind of data is kept: rows (ARCHIVE_RETENTION_DAYS) and the raw user agent (RAW_USER_AGENT_DAYS). */
export interface RetentionDays {
  rows: number;
  rawUserAgent: number;
}

export const DEFAULT_RETENTION_DAYS: RetentionDays = { rows: 730, rawUserAgent: 30 };

/** Every table with data, and the time its rows are old by (a span rollup's row: its last day). */
export const ROW_TTLS = [
  { table: "events", time: "toDateTime(event_timestamp)" },
  { table: "sessions", time: "toDateTime(opened_at)" },
  { table: "session_log", time: "toDateTime(opened_at)" },
  { table: "events_rollup", time: "hour" },
  { table: "sessions_rollup", time: "hour" },
  { table: "events_rollup_days", time: "addDays(day, span)" },
  { table: "sessions_rollup_days", time: "addDays(day, span)" },
] as const;

/** Columns forgotten sooner than their rows: reset to their default (empty) after the days. */
export const COLUMN_TTLS = [{ table: "events", column: "user_agent", time: "toDateTime(event_timestamp)" }] as const;

/**
 * Each table's DDL as ClickHouse normalises it (rows `{ name, create_table_query }`). On a cluster
 * the rows are the `_local` tables (the Distributed ones are no MergeTree): read them through
 * core/clickhouse/cluster.ts plainTableRows, whose names ttlChanges knows.
 */
export const TABLE_DDL_SQL =
  "SELECT name, create_table_query FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree'";

function checkedDays(days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new Error(`TTL days must be a positive integer, not ${days}`);
  return days;
}

/** The TTL statements for these days, in migration 0008's order. Days are integers, so no text reaches SQL. */
export function ttlStatements(days: RetentionDays): { table: string; column?: string; sql: string }[] {
  const rows = checkedDays(days.rows);
  const ua = checkedDays(days.rawUserAgent);
  const [events, ...rest] = ROW_TTLS.map((t) => ({
    table: t.table,
    sql: `ALTER TABLE ${t.table} MODIFY TTL ${t.time} + INTERVAL ${rows} DAY`,
  }));
  const columns = COLUMN_TTLS.map((c) => ({
    table: c.table,
    column: c.column,
    sql: `ALTER TABLE ${c.table} MODIFY COLUMN ${c.column} TTL ${c.time} + INTERVAL ${ua} DAY`,
  }));
  return [...(events ? [events] : []), ...columns, ...rest];
}

/** The table-level TTL expression of a normalised DDL (after the engine clause), or null. */
export function tableTtl(ddl: string): string | null {
  const engine = ddl.indexOf(") ENGINE = ");
  return / TTL (.+?)(?: SETTINGS |$)/.exec(engine === -1 ? ddl : ddl.slice(engine))?.[1] ?? null;
}

/** A column's TTL expression in a normalised DDL, or null. */
export function columnTtl(ddl: string, column: string): string | null {
  return new RegExp(`\`${column}\` [^\`]*? TTL (.+?)(?:, \`|, INDEX |\\) ENGINE)`).exec(ddl)?.[1] ?? null;
}

/** How ClickHouse writes `time + INTERVAL n DAY` back in its DDL. */
const normalised = (time: string, days: number) => `${time} + toIntervalDay(${days})`;

/**
 * The statements that bring the tables to `days`: one per TTL whose expression differs. Tables the
 * database does not have are left alone (a migration adds them, with the defaults).
 */
export function ttlChanges(tables: readonly { name: string; create_table_query: string }[], days: RetentionDays) {
  const ddl = new Map(tables.map((t) => [t.name, t.create_table_query]));
  const wanted = ttlStatements(days);
  return wanted.filter((s) => {
    const query = ddl.get(s.table);
    if (query === undefined) return false;
    const spec = s.column
      ? COLUMN_TTLS.find((c) => c.table === s.table && c.column === s.column)
      : ROW_TTLS.find((t) => t.table === s.table);
    if (!spec) return false;
    const current = s.column ? columnTtl(query, s.column) : tableTtl(query);
    return current !== normalised(spec.time, s.column ? days.rawUserAgent : days.rows);
  });
}
