/**
 * Retention (core/query/retention.ts) from the warehouse: the same weekly cohorts as ClickHouse's
 * statement, as portable SQL (PostgreSQL and Redshift), with its rows' shape — `(cohort,
 * week_offset, visitors, observed_weeks)` — so `shapeRetention` shapes both. Values only as parameters.
 *
 * As there: a visitor is a first-party client id (cookieless ids change daily), their cohort is
 * the Monday-started week, in the query's zone, of their first event before `to`, and only
 * visitors first seen from `from` on have one. Weeks are Mondays of the local wall clock
 * (`AT TIME ZONE`, then DATE_TRUNC('week'), a Monday on both engines), as ClickHouse's toMonday.
 */
import { sql } from "kysely";
import type { z } from "zod";
import type { RetentionQuerySchema } from "./retention.ts";
import { at, type CompiledQuery, compile, type Fragment } from "./warehouse-scope.ts";

const WEEK_SECONDS = 7 * 86_400;
const DEFAULT_WEEKS = 8;

/** The Monday 00:00 (local wall clock, a TIMESTAMP) of the week holding a UTC instant. */
const mondayOf = (utc: Fragment, timezone: string): Fragment =>
  sql`DATE_TRUNC('week', ((${utc}) AT TIME ZONE 'UTC') AT TIME ZONE ${timezone})`;

/** Whole weeks between two Mondays: wall-clock Mondays are exact multiples of 7 days apart. */
const weeksBetween = (later: Fragment, earlier: Fragment): Fragment =>
  sql`CAST(ROUND((EXTRACT(EPOCH FROM ${later}) - EXTRACT(EPOCH FROM ${earlier})) / ${sql.lit(WEEK_SECONDS)}) AS INTEGER)`;

/** Rows `(cohort, week_offset, visitors, observed_weeks)`, as `buildRetentionSql`'s. */
export function buildWarehouseRetentionSql(input: z.input<typeof RetentionQuerySchema>): CompiledQuery {
  const weeks = input.weeks ?? DEFAULT_WEEKS;
  const tz = input.timezone;
  const own = (alias: string) => {
    const col = (name: string) => sql.ref(`${alias}.${name}`);
    return sql`${col("property_id")} = ${input.property_id} AND ${col("event_timestamp")} < ${at(input.to_ms)}
    AND ${col("visitor_id_source")} = ${"client"}${input.include_bots ? sql`` : sql` AND NOT ${col("is_bot")}`}`;
  };
  const firsts = sql`SELECT e.client_id, MIN(e.event_timestamp) AS first_at FROM events e
    WHERE ${own("e")}
    GROUP BY e.client_id
    HAVING MIN(e.event_timestamp) >= ${at(input.from_ms)}`;
  // Each visitor's distinct active weeks, as ClickHouse's groupUniqArray.
  const active = sql`SELECT DISTINCT f.client_id, ${mondayOf(sql`f.first_at`, tz)} AS cohort_week,
      ${mondayOf(sql`e.event_timestamp`, tz)} AS active_week
    FROM (${firsts}) f JOIN events e ON e.client_id = f.client_id
    WHERE ${own("e")} AND e.event_timestamp >= ${at(input.from_ms)}`;
  const offset = weeksBetween(sql`a.active_week`, sql`a.cohort_week`);
  // The last instant in range: its week is the last any cohort can be observed in.
  const lastWeek = mondayOf(at(input.to_ms - 1), tz);
  return compile(sql`SELECT TO_CHAR(a.cohort_week, 'YYYY-MM-DD') AS cohort, ${offset} AS week_offset,
  COUNT(*) AS visitors, ${weeksBetween(lastWeek, sql`a.cohort_week`)} AS observed_weeks
FROM (${active}) a
WHERE ${offset} <= ${weeks}
GROUP BY a.cohort_week, a.active_week
ORDER BY a.cohort_week, week_offset`);
}
