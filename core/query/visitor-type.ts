/**
 * `visit:visitor_type`, GA4's new / returning: a visit is `returning` when its visitor had an
 * earlier session, `new` when it is their first. No table stores it: when a query names it, every
 * read of `sessions` goes through `sessionsSource`, which adds the column by looking each visitor's
 * first session up as far back as the hot retention reaches (the plan's `historyFrom`).
 */
import { DAY_MS } from "../time.ts";
import { HASH_COLUMNS } from "./columns.ts";
import { namedInFilters } from "./metric-rules.ts";
import type { ResolvedQuery } from "./normalise.ts";
import { ms, type Scope } from "./sql-scope.ts";

export const VISITOR_TYPE = "visit:visitor_type";

/** Whether the query names the visitor type, as a dimension or in a filter. */
export function namesVisitorType(q: Pick<ResolvedQuery, "dimensions" | "filters">): boolean {
  return (q.dimensions as readonly string[]).includes(VISITOR_TYPE) || namedInFilters(q.filters).includes(VISITOR_TYPE);
}

/**
 * `sessions FINAL`, or — when the query names the visitor type — the same rows with a
 * `visitor_type` column: each session's visitor's first `opened_at` since `s.historyFrom`, read for
 * the visitors of the range only (a session opened a day before the range may still be in it).
 * `opened_at` never changes between a session's versions, so the lookup needs no FINAL.
 */
export function sessionsSource(s: Scope): string {
  if (!namesVisitorType(s.q)) return "sessions FINAL";
  const dayBefore = s.q.from - DAY_MS;
  const since = ms(s.p.add("Int64", Math.min(s.historyFrom, dayBefore)));
  const inRange = `property_id = ${s.property} AND opened_at >= ${ms(s.p.add("Int64", dayBefore))} AND opened_at < ${ms(s.to)}`;
  const first = `SELECT client_id, min(opened_at) AS first_opened FROM sessions WHERE property_id = ${s.property} AND opened_at >= ${since} AND opened_at < ${ms(s.to)} AND client_id IN (SELECT client_id FROM sessions WHERE ${inRange}) GROUP BY client_id`;
  // `*` leaves out the MATERIALIZED hash a semi-join on these rows reads.
  return `(SELECT *, ${HASH_COLUMNS.sessions.session}, if(opened_at > first_opened, 'returning', 'new') AS visitor_type FROM sessions FINAL LEFT JOIN (${first}) AS first_visits USING (client_id) WHERE ${inRange})`;
}
