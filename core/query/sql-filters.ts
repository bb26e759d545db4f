/**
 * The filter tree of the query language as SQL conditions on one leg: a column when the leg's
 * table has the dimension, else a semi-join on the session id; goals as event conditions. Values
 * only as placeholders; columns only from the whitelists (core/query/columns.ts).
 */
import { goalPathRegex } from "../property/goals.ts";
import { DAY_MS } from "../time.ts";
import { EVENT_COLUMNS, HASH_COLUMNS, SESSION_COLUMNS } from "./columns.ts";
import type { GoalRef } from "./normalise.ts";
import type { Leg } from "./plan.ts";
import {
  type Dimension,
  type Filter,
  type FilterOperator,
  isPropDimension,
  type PlainDimension,
  PROPS_PREFIX,
} from "./spec.ts";
import { ms, type Params, type Scope } from "./sql-scope.ts";
import { sessionsSource } from "./visitor-type.ts";

function operatorSql(op: FilterOperator, column: string, values: string[], p: Params): string {
  switch (op) {
    case "is":
      return `${column} IN ${p.add("Array(String)", values)}`;
    case "is_not":
      return `${column} NOT IN ${p.add("Array(String)", values)}`;
    case "contains":
      return `multiSearchAny(${column}, ${p.add("Array(String)", values)})`;
    case "contains_not":
      return `NOT multiSearchAny(${column}, ${p.add("Array(String)", values)})`;
    case "matches":
      return `(${values.map((v) => `match(${column}, ${p.add("String", v)})`).join(" OR ")})`;
    case "matches_not":
      return `NOT (${values.map((v) => `match(${column}, ${p.add("String", v)})`).join(" OR ")})`;
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

export function column(
  d: PlainDimension | `event:props:${string}`,
  table: "events" | "sessions",
  s: Scope,
): string | null {
  if (isPropDimension(d))
    return table === "events" ? `custom_dimensions[${s.p.add("String", d.slice(PROPS_PREFIX.length))}]` : null;
  return (table === "events" ? EVENT_COLUMNS : SESSION_COLUMNS)[d];
}

export const sessionsInRange = (s: Scope) =>
  `property_id = ${s.property} AND opened_at >= ${ms(s.p.add("Int64", s.q.from - DAY_MS))} AND opened_at < ${ms(s.to)}`;
export const eventsInRange = (s: Scope, slackMs = 0) =>
  `property_id = ${s.property} AND event_timestamp >= ${ms(s.from)} AND event_timestamp < ${ms(slackMs ? s.p.add("Int64", s.q.to + slackMs) : s.to)}`;

/**
 * `session_id [NOT] IN (SELECT session_id FROM <from>)`, on the ids' stored 64-bit hashes
 * (HASH_COLUMNS): the set holds up to every session of the range (2.3M on the bench data), and a
 * set of integers read from 8-byte columns is built and probed faster than one of 38-character
 * strings (measured: 3 filters × day's sessions leg 1,052 → 705 ms hashing on the fly, → ~500 ms
 * reading the stored hashes). A session outside the set matches one inside by hash with odds of
 * ~3 in 10^6 per statement at 10M sessions in range (probes × set ÷ 2^64); it would then be
 * counted as matching.
 */
export function sessionSemiJoin(negated: boolean, from: string): string {
  const hash = HASH_COLUMNS.events.session;
  return `${hash} ${negated ? "NOT IN" : "IN"} (SELECT ${hash} FROM ${from})`;
}

/** One filter atom on one leg: a column when the table has it, else a semi-join on the session id. */
function atomSql(op: FilterOperator, dim: Dimension, values: string[], leg: Leg, s: Scope): string {
  if (leg.rollupDimension !== null || leg.table.endsWith("_rollup")) return operatorSql(op, "value", values, s.p);
  const plain = dim as PlainDimension;
  const own = column(plain, leg.side, s);
  if (own) return operatorSql(op, own, values, s.p);
  if (leg.side === "events")
    return sessionSemiJoin(
      false,
      `${sessionsSource(s)} WHERE ${sessionsInRange(s)} AND ${operatorSql(op, column(plain, "sessions", s) ?? "''", values, s.p)}`,
    );
  // Sessions by what happened in them: "is_not /pricing" means sessions that never saw /pricing.
  const inner = operatorSql(POSITIVE[op], column(plain, "events", s) ?? "''", values, s.p);
  const negated = op !== POSITIVE[op];
  return sessionSemiJoin(negated, `events WHERE ${eventsInRange(s, DAY_MS)} AND ${inner}`);
}

export function filterSql(f: Filter, leg: Leg, s: Scope): string {
  if (f[0] === "and" || f[0] === "or")
    return `(${(f[1] as Filter[]).map((g) => filterSql(g, leg, s)).join(f[0] === "and" ? " AND " : " OR ")})`;
  if (f[0] === "not") return `NOT (${filterSql(f[1] as Filter, leg, s)})`;
  return atomSql(f[0], f[1] as Dimension, f[2] as string[], leg, s);
}

/** A page pattern on `page_path`: compared when it has no wildcard (a regex costs ~160 ms more on 10M rows), else matched. */
function pagePathSql(pattern: string, p: Params): string {
  if (!pattern.includes("*")) return `page_path = ${p.add("String", pattern)}`;
  return `match(page_path, ${p.add("String", goalPathRegex(pattern))})`;
}

export function goalSql(goals: readonly GoalRef[], p: Params): string {
  return `(${goals
    .map((g) =>
      g.kind === "page"
        ? `(event_type = 'pageview' AND ${pagePathSql(g.page_path ?? "", p)})`
        : `event_type = ${p.add("String", g.event_name ?? "")}`,
    )
    .join(" OR ")})`;
}
