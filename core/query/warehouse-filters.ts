/**
 * The filter tree as warehouse SQL, atom for atom what core/query/sql-filters.ts writes for
 * ClickHouse: a column when the leg's table has the dimension, else a semi-join on the session id;
 * goals as event conditions. Values only as parameters, columns only from core/query/columns.ts.
 */
import { sql } from "kysely";
import { goalPathRegex } from "../property/goals.ts";
import { DAY_MS } from "../time.ts";
import { EVENT_COLUMNS, SESSION_COLUMNS } from "./columns.ts";
import type { GoalRef } from "./normalise.ts";
import {
  type Dimension,
  type Filter,
  type FilterOperator,
  isPropDimension,
  type PlainDimension,
  PROPS_PREFIX,
} from "./spec.ts";
import { namesVisitorType } from "./visitor-type.ts";
import { at, type Fragment, mapText, type WarehouseScope } from "./warehouse-scope.ts";

export type Side = "events" | "sessions";

const anyOf = (parts: Fragment[]) => sql`(${sql.join(parts, sql` OR `)})`;

/** RE2 patterns (validated as such) read the same as POSIX AREs for what the query language allows. */
function operatorSql(op: FilterOperator, column: Fragment, values: string[]): Fragment {
  switch (op) {
    case "is":
      return sql`${column} IN (${sql.join(values)})`;
    case "is_not":
      return sql`${column} NOT IN (${sql.join(values)})`;
    case "contains":
      return anyOf(values.map((v) => sql`POSITION(${v} IN ${column}) > 0`));
    case "contains_not":
      return sql`NOT ${anyOf(values.map((v) => sql`POSITION(${v} IN ${column}) > 0`))}`;
    case "matches":
      return anyOf(values.map((v) => sql`${column} ~ ${v}`));
    case "matches_not":
      return sql`NOT ${anyOf(values.map((v) => sql`${column} ~ ${v}`))}`;
  }
}

const POSITIVE: Record<FilterOperator, FilterOperator> = {
  is: "is",
  is_not: "is",
  contains: "contains",
  contains_not: "contains",
  matches: "matches",
  matches_not: "matches",
};

/** A dimension's column on one table, or null when the table does not hold it. */
export function column(d: PlainDimension | `event:props:${string}`, side: Side): Fragment | null {
  if (isPropDimension(d)) return side === "events" ? mapText("custom_dimensions", d.slice(PROPS_PREFIX.length)) : null;
  const name = (side === "events" ? EVENT_COLUMNS : SESSION_COLUMNS)[d];
  return name === null ? null : sql.ref(name);
}

export const eventsInRange = (s: WarehouseScope, slackMs = 0): Fragment =>
  sql`property_id = ${s.q.property_id} AND event_timestamp >= ${at(s.q.from)} AND event_timestamp < ${at(s.q.to + slackMs)}`;
/** A session opened up to a day before the range may still have events in it. */
export const sessionsInRange = (s: WarehouseScope): Fragment =>
  sql`property_id = ${s.q.property_id} AND opened_at >= ${at(s.q.from - DAY_MS)} AND opened_at < ${at(s.q.to)}`;

/**
 * `sessions`, or — when the query names the visitor type — the same rows with a `visitor_type`
 * column: `returning` when the visitor has an earlier session since `historyFrom`
 * (core/query/visitor-type.ts does the same over ClickHouse's hot retention). The first session
 * is a window over the property's sessions: a join of per-visitor minimums planned far worse.
 */
export function sessionsSource(s: WarehouseScope): Fragment {
  if (!namesVisitorType(s.q)) return sql`sessions`;
  const since = at(Math.min(s.historyFrom, s.q.from - DAY_MS));
  const history = sql`SELECT sessions.*, MIN(opened_at) OVER (PARTITION BY client_id) AS first_opened FROM sessions WHERE property_id = ${s.q.property_id} AND opened_at >= ${since} AND opened_at < ${at(s.q.to)}`;
  return sql`(SELECT sh.*, CASE WHEN sh.opened_at > sh.first_opened THEN 'returning' ELSE 'new' END AS visitor_type FROM (${history}) sh WHERE sh.opened_at >= ${at(s.q.from - DAY_MS)}) vs`;
}

/** One filter atom on one side: a column when the table has it, else a semi-join on the session id. */
function atomSql(op: FilterOperator, dim: Dimension, values: string[], side: Side, s: WarehouseScope): Fragment {
  const plain = dim as PlainDimension;
  const own = column(plain, side);
  if (own) return operatorSql(op, own, values);
  if (side === "events")
    return sql`session_id IN (SELECT session_id FROM ${sessionsSource(s)} WHERE ${sessionsInRange(s)} AND ${operatorSql(op, column(plain, "sessions") ?? sql`''`, values)})`;
  // Sessions by what happened in them: "is_not /pricing" means sessions that never saw /pricing.
  const inner = operatorSql(POSITIVE[op], column(plain, "events") ?? sql`''`, values);
  const negated = op !== POSITIVE[op];
  return sql`session_id ${sql.raw(negated ? "NOT IN" : "IN")} (SELECT session_id FROM events WHERE ${eventsInRange(s, DAY_MS)} AND ${inner})`;
}

export function filterSql(f: Filter, side: Side, s: WarehouseScope): Fragment {
  if (f[0] === "and" || f[0] === "or")
    return sql`(${sql.join(
      (f[1] as Filter[]).map((g) => filterSql(g, side, s)),
      sql.raw(f[0] === "and" ? " AND " : " OR "),
    )})`;
  if (f[0] === "not") return sql`NOT (${filterSql(f[1] as Filter, side, s)})`;
  return atomSql(f[0], f[1] as Dimension, f[2] as string[], side, s);
}

/** Whether an event converts one of the goals (page goals: pageviews whose path matches). */
export function goalSql(goals: readonly GoalRef[]): Fragment {
  return anyOf(
    goals.map((g) =>
      g.kind === "page"
        ? sql`(event_type = 'pageview' AND page_path ~ ${goalPathRegex(g.page_path ?? "")})`
        : sql`event_type = ${g.event_name ?? ""}`,
    ),
  );
}
