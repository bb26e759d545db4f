/**
 * The warehouse's share of privacy by default (issue #17), pure builders: the raw user agent is
 * emptied once older than RAW_USER_AGENT_DAYS (ClickHouse's column TTL does the same there, and
 * the column is NOT NULL on both engines), and every table forgets what lies wholly before the
 * compliance period (ARCHIVE_RETENTION_DAYS), as ClickHouse's TTLs and the archive's lifecycle do.
 * The ledger (`job_runs`) keeps its rows: they hold periods and counts, nothing about visitors.
 */
import type { Kysely } from "kysely";
import { DAY_MS } from "../time.ts";
import { timestamp } from "../warehouse/aggregates.ts";
import type { WarehouseDatabase } from "../warehouse/schema.ts";

type DB = Kysely<WarehouseDatabase>;

/** The ledger's jobs, one run per UTC day each (the run's day is the period). */
export const RAW_USER_AGENT_JOB = "privacy_raw_user_agent";
export const RETENTION_JOB = "warehouse_retention";

/** `UPDATE events SET user_agent = ''` for events before `cut` that still hold one. */
export function expireUserAgents(db: DB, cut: number) {
  return db
    .updateTable("events")
    .set({ user_agent: "" })
    .where("event_timestamp", "<", timestamp(cut))
    .where("user_agent", "<>", "");
}

/** The first date (`YYYY-MM-DD`) whose period of `length` ms does not end by `cut`: earlier ones lie wholly before it. */
export function firstKeptDate(cut: number, length: number): string {
  return new Date(Math.floor((cut - length) / DAY_MS) * DAY_MS + DAY_MS).toISOString().slice(0, 10);
}

/**
 * One DELETE per table, of the rows wholly before `cut`: events and sessions by their own time,
 * the data-quality rows by hour, the aggregates when their whole period (day, week, month) is.
 */
export function deleteExpired(db: DB, cut: number) {
  const day = firstKeptDate(cut, DAY_MS);
  const week = firstKeptDate(cut, 7 * DAY_MS);
  // Months differ in length: 31 days keeps a short month's row a few days longer, never shorter.
  const month = firstKeptDate(cut, 31 * DAY_MS);
  return [
    db.deleteFrom("events").where("event_timestamp", "<", timestamp(cut)),
    db.deleteFrom("sessions").where("opened_at", "<", timestamp(cut)),
    db.deleteFrom("data_quality").where("hour", "<", timestamp(cut)),
    db.deleteFrom("daily_metrics").where("day", "<", day),
    db.deleteFrom("conversion_funnels").where("day", "<", day),
    db.deleteFrom("weekly_reports").where("week_start", "<", week),
    db.deleteFrom("user_cohorts").where("cohort_week", "<", week),
    db.deleteFrom("monthly_reports").where("month_start", "<", month),
  ];
}
