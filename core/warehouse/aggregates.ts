/**
 * The period aggregates (daily_metrics, weekly_reports, monthly_reports) as Kysely statements:
 * pure builders over a warehouse handle (a transaction, in the job). Portable to PostgreSQL and
 * Redshift: no ON CONFLICT, FILTER or DISTINCT ON; a period is replaced by DELETE then
 * INSERT … SELECT in one transaction, so a re-run never doubles it.
 *
 * Every figure is defined as the ClickHouse query planner defines it (core/query/plan.ts modeOf,
 * sql-metrics.ts), so the query API can answer from these rows what it would from raw events:
 * - totals ('') and visitor-scoped dimensions (country, device, browser, os): visitors, pageviews
 *   and events from the period's events (their own column), visits, bounces and duration from the
 *   sessions opened in it (the session's column) — the planner's "mixed" mode;
 * - event:page: everything from events; visits are distinct sessions with a view of the page, and
 *   bounces and duration are 0 (a whole visit's figures cannot be split by page: metric-rules.ts);
 * - session-scoped dimensions (source, channel, referrer, entry page): everything from the sessions
 *   opened in the period — the planner's "session" mode (pageviews and events are the visits' sums).
 * Bots never count (`is_bot = false`), as in every report. Visitors are exact distinct counts.
 */
import { type ExpressionBuilder, type Kysely, sql } from "kysely";
import { toClickHouseDateTime } from "../clickhouse-row.ts";
import { DAY_MS } from "../time.ts";
import { AGGREGATE_DIMENSIONS, type WarehouseDatabase } from "./schema.ts";

type DB = Kysely<WarehouseDatabase>;
export type AggregateDimension = (typeof AGGREGATE_DIMENSIONS)[number];
type EventColumn = "page_path" | "country" | "device_type" | "browser" | "os";
type SessionColumn =
  | "source"
  | "channel"
  | "referrer_host"
  | "entry_page"
  | "country"
  | "device_type"
  | "browser"
  | "os";

/** How a dimension is counted (see above) and its columns: core/query/columns.ts's, typed. */
export type DimensionSource =
  | { scope: "event"; events: EventColumn }
  | { scope: "session"; sessions: SessionColumn }
  | { scope: "visitor"; events: EventColumn; sessions: SessionColumn };

export const DIMENSION_SOURCES: Record<AggregateDimension, DimensionSource> = {
  "event:page": { scope: "event", events: "page_path" },
  "visit:source": { scope: "session", sessions: "source" },
  "visit:channel": { scope: "session", sessions: "channel" },
  "visit:referrer": { scope: "session", sessions: "referrer_host" },
  "visit:entry_page": { scope: "session", sessions: "entry_page" },
  "visit:country": { scope: "visitor", events: "country", sessions: "country" },
  "visit:device": { scope: "visitor", events: "device_type", sessions: "device_type" },
  "visit:browser": { scope: "visitor", events: "browser", sessions: "browser" },
  "visit:os": { scope: "visitor", events: "os", sessions: "os" },
};

export type PeriodKind = "day" | "week" | "month";
export const PERIOD_TABLES = {
  day: { table: "daily_metrics", column: "day" },
  week: { table: "weekly_reports", column: "week_start" },
  month: { table: "monthly_reports", column: "month_start" },
} as const;

export interface Period {
  kind: PeriodKind;
  /** The period's first day, `YYYY-MM-DD` (UTC): the row key. */
  start: string;
  /** Epoch ms, [from, to). */
  from: number;
  to: number;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Epoch ms of a `YYYY-MM-DD` (UTC midnight); throws on anything else. */
export function dayStart(day: string): number {
  const ms = Date.parse(`${day}T00:00:00Z`);
  if (!DATE.test(day) || !Number.isFinite(ms) || isoDay(ms) !== day) throw new Error(`not a date: ${day}`);
  return ms;
}

/** Monday (UTC) of the ISO week holding `ms`. */
export function mondayOf(ms: number): number {
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  return day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
}

/** The day, its ISO week (Monday start) and its month, each [from, to) in UTC. */
export function periodsOf(day: string): Period[] {
  const from = dayStart(day);
  const monday = mondayOf(from);
  const d = new Date(from);
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const nextMonth = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return [
    { kind: "day", start: day, from, to: from + DAY_MS },
    { kind: "week", start: isoDay(monday), from: monday, to: monday + 7 * DAY_MS },
    { kind: "month", start: isoDay(month), from: month, to: nextMonth },
  ];
}

/**
 * A UTC instant as a TIMESTAMP parameter. Text with an explicit cast rather than a Date: node-postgres
 * writes Dates in the process's local zone, and TIMESTAMP (without zone) would keep that offset's clock.
 */
export const timestamp = (ms: number) => sql<Date>`CAST(${toClickHouseDateTime(ms)} AS TIMESTAMP)`;
export const dateParam = (day: string) => sql<string>`CAST(${day} AS DATE)`;
const text = (value: string) => sql<string>`CAST(${value} AS VARCHAR(64))`;
const zero = sql<number>`0`;
const oneIf = (condition: ReturnType<typeof sql>) => sql<number>`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;

/** One side's rows per (property, value), all eight figures (the other side's as 0), to be summed. */
function eventsSide(db: DB, p: Period, column: EventColumn | null, visits: boolean) {
  return db
    .selectFrom("events")
    .select((eb) => [
      "property_id",
      column ? eb.ref(column).as("value") : text("").as("value"),
      eb.fn.count<number>("client_id").distinct().as("visitors"),
      visits ? eb.fn.count<number>("session_id").distinct().as("visits") : zero.as("visits"),
      oneIf(sql`${eb.ref("event_type")} = ${"pageview"}`).as("pageviews"),
      eb.fn.countAll<number>().as("events"),
      zero.as("bounces"),
      zero.as("duration_seconds"),
    ])
    .where((eb) => inRange(eb, "event_timestamp", p))
    .where("is_bot", "=", false)
    .groupBy(column ? ["property_id", column] : ["property_id"]);
}

function sessionsSide(db: DB, p: Period, column: SessionColumn | null, all: boolean) {
  return db
    .selectFrom("sessions")
    .select((eb) => [
      "property_id",
      column ? eb.ref(column).as("value") : text("").as("value"),
      all ? eb.fn.count<number>("client_id").distinct().as("visitors") : zero.as("visitors"),
      eb.fn.countAll<number>().as("visits"),
      all ? eb.fn.sum<number>("pageviews").as("pageviews") : zero.as("pageviews"),
      all ? eb.fn.sum<number>("events").as("events") : zero.as("events"),
      oneIf(sql`${eb.ref("is_bounce")}`).as("bounces"),
      eb.fn.sum<number>("duration").as("duration_seconds"),
    ])
    .where((eb) => inRange(eb, "opened_at", p))
    .where("is_bot", "=", false)
    .groupBy(column ? ["property_id", column] : ["property_id"]);
}

function inRange<T extends "events" | "sessions">(
  eb: ExpressionBuilder<WarehouseDatabase, T>,
  column: "event_timestamp" | "opened_at",
  p: Period,
) {
  const ref = sql.ref(column);
  return eb.and([eb(ref, ">=", timestamp(p.from)), eb(ref, "<", timestamp(p.to))]);
}

/** The sides a dimension ('' = totals) is counted from: one, or two to be summed per value. */
function sides(db: DB, p: Period, dimension: AggregateDimension | "") {
  if (dimension === "") return eventsSide(db, p, null, false).unionAll(sessionsSide(db, p, null, false));
  const source = DIMENSION_SOURCES[dimension];
  if (source.scope === "event") return eventsSide(db, p, source.events, true);
  if (source.scope === "session") return sessionsSide(db, p, source.sessions, true);
  return eventsSide(db, p, source.events, false).unionAll(sessionsSide(db, p, source.sessions, false));
}

const FIGURES = [
  "dimension",
  "value",
  "visitors",
  "visits",
  "pageviews",
  "events",
  "bounces",
  "duration_seconds",
] as const;

/** INSERT … SELECT of one period's rows of one dimension, every property at once. */
export function insertPeriodDimension(db: DB, p: Period, dimension: AggregateDimension | "") {
  const select = db
    .selectFrom(sides(db, p, dimension).as("u"))
    .select((eb) => [
      "u.property_id",
      dateParam(p.start).as("period"),
      text(dimension).as("dimension"),
      "u.value",
      eb.fn.sum<number>("u.visitors").as("visitors"),
      eb.fn.sum<number>("u.visits").as("visits"),
      eb.fn.sum<number>("u.pageviews").as("pageviews"),
      eb.fn.sum<number>("u.events").as("events"),
      eb.fn.sum<number>("u.bounces").as("bounces"),
      eb.fn.sum<number>("u.duration_seconds").as("duration_seconds"),
    ])
    .groupBy(["u.property_id", "u.value"]);
  // One branch per table: Kysely types an insert's columns by its one table.
  if (p.kind === "day")
    return db
      .insertInto("daily_metrics")
      .columns(["property_id", "day", ...FIGURES])
      .expression(select);
  if (p.kind === "week")
    return db
      .insertInto("weekly_reports")
      .columns(["property_id", "week_start", ...FIGURES])
      .expression(select);
  return db
    .insertInto("monthly_reports")
    .columns(["property_id", "month_start", ...FIGURES])
    .expression(select);
}

/** Clears one period's rows (every property) before they are written again. */
export function deletePeriod(db: DB, p: Period) {
  const { table, column } = PERIOD_TABLES[p.kind];
  return db.deleteFrom(table).where(sql.ref(column), "=", dateParam(p.start));
}

/** The statements that rebuild one period, in order: run them in one transaction. */
export function rebuildPeriod(db: DB, p: Period) {
  return {
    clear: deletePeriod(db, p),
    inserts: (["", ...AGGREGATE_DIMENSIONS] as const).map((d) => insertPeriodDimension(db, p, d)),
  };
}
