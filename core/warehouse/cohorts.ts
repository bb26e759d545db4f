/**
 * Weekly cohorts (`user_cohorts`) as Kysely statements, portable to PostgreSQL and Redshift:
 * DATE_TRUNC('week') is a Monday on both, and week offsets come from epoch seconds.
 */
import { type Kysely, sql } from "kysely";
import { DAY_MS } from "../time.ts";
import { dateParam, dayStart, isoDay, mondayOf, timestamp } from "./aggregates.ts";
import type { WarehouseDatabase } from "./schema.ts";

type DB = Kysely<WarehouseDatabase>;

/** How many cohorts (weeks, the day's own last) a day's run recomputes. */
export const COHORT_WEEKS = 12;

export interface CohortWindow {
  /** The cohorts' Mondays, oldest first; the last is the day's own week. */
  weeks: string[];
  /** Epoch ms: the first cohort's Monday, and the end of the day's week. */
  from: number;
  to: number;
}

export function cohortWindow(day: string): CohortWindow {
  const to = mondayOf(dayStart(day)) + 7 * DAY_MS;
  const from = to - COHORT_WEEKS * 7 * DAY_MS;
  return { weeks: Array.from({ length: COHORT_WEEKS }, (_, i) => isoDay(from + i * 7 * DAY_MS)), from, to };
}

/**
 * The cells a run recomputes: each cohort of the window, at every offset up to the day's week.
 * Later offsets (a run for a later day wrote them) stay, so a backfill in any order ends the same.
 */
export function deleteCohorts(db: DB, w: CohortWindow) {
  const last = w.weeks.length - 1;
  return db
    .deleteFrom("user_cohorts")
    .where((eb) =>
      eb.or(
        w.weeks.map((week, i) => eb.and([eb("cohort_week", "=", dateParam(week)), eb("week_offset", "<=", last - i)])),
      ),
    );
}

const WEEK_SECONDS = 7 * 86_400;
const mondayAt = (column: string) => sql<Date>`DATE_TRUNC('week', ${sql.ref(column)})`;

/**
 * Cohort week = the Monday (UTC) of a visitor's first non-bot event; offset = weeks from it to a
 * later week with an event of theirs. As the retention report (core/query/retention.ts), only
 * first-party ids count: a cookieless id changes daily, so it could only dilute every cohort.
 */
export function insertCohorts(db: DB, w: CohortWindow) {
  const firsts = db
    .selectFrom("events")
    .select((eb) => ["property_id", "client_id", eb.fn.min("event_timestamp").as("first_at")])
    .where("is_bot", "=", false)
    .where("visitor_id_source", "=", "client")
    .where(sql.ref("event_timestamp"), "<", timestamp(w.to))
    .groupBy(["property_id", "client_id"])
    .having((eb) => eb(eb.fn.min("event_timestamp"), ">=", timestamp(w.from)));
  // Weeks are whole multiples of 7 days, so the epoch difference divides exactly (ROUND for the numeric type).
  const offset = sql<number>`CAST(ROUND((EXTRACT(EPOCH FROM ${mondayAt("e.event_timestamp")}) - EXTRACT(EPOCH FROM ${mondayAt("f.first_at")})) / ${sql.lit(WEEK_SECONDS)}) AS INTEGER)`;
  const activity = db
    .selectFrom(firsts.as("f"))
    .innerJoin("events as e", (j) =>
      j.onRef("e.property_id", "=", "f.property_id").onRef("e.client_id", "=", "f.client_id"),
    )
    .select([
      "f.property_id",
      "f.client_id",
      sql<string>`CAST(${mondayAt("f.first_at")} AS DATE)`.as("cohort_week"),
      offset.as("week_offset"),
    ])
    .where("e.is_bot", "=", false)
    .where(sql.ref("e.event_timestamp"), ">=", timestamp(w.from))
    .where(sql.ref("e.event_timestamp"), "<", timestamp(w.to));
  return db
    .insertInto("user_cohorts")
    .columns(["property_id", "cohort_week", "week_offset", "visitors"])
    .expression(
      db
        .selectFrom(activity.as("a"))
        .select((eb) => [
          "a.property_id",
          "a.cohort_week",
          "a.week_offset",
          eb.fn.count("a.client_id").distinct().as("visitors"),
        ])
        .groupBy(["a.property_id", "a.cohort_week", "a.week_offset"]),
    );
}
