/**
 * validate → normalise → plan → **SQL** → run → shape. Builds one ClickHouse statement per
 * (query, plan): one subquery per leg (events side, sessions side), joined on the dimension
 * values. Values only ever travel as `{pN:Type}` parameters; identifiers come only from the
 * whitelists below, keyed by the dimension names the query spec allows.
 */
import { goalPathRegex } from "../property/goals.ts";
import { DAY_MS } from "../time.ts";
import { EVENT_COLUMNS, SESSION_COLUMNS } from "./columns.ts";
import type { GoalRef, ResolvedQuery } from "./normalise.ts";
import type { Leg, Plan } from "./plan.ts";
import { uniqIfSql, uniqMergeSql, uniqSql } from "./sketch.ts";
import {
  type Dimension,
  type Filter,
  type FilterOperator,
  GOAL_DIMENSION,
  isPropDimension,
  isTimeDimension,
  type Metric,
  type PlainDimension,
  PROPS_PREFIX,
  scopeOf,
  type TimeDimension,
} from "./spec.ts";
import { rollupSource, type Source } from "./sql-rollup.ts";
import { ms, Params, type Scope } from "./sql-scope.ts";

export { DIMENSION_COLUMNS } from "./columns.ts";

export interface BuiltQuery {
  sql: string;
  params: Record<string, string | number | string[]>;
  /** Set when the result is one time series: the shaper fills the gaps, orders and pages it. */
  gapFill: TimeDimension | null;
  /** ClickHouse settings the statement runs with. */
  settings: Record<string, number>;
}

/**
 * A rollup statement reads a slice of a few thousand rows: one thread does it, and a dashboard's
 * seven concurrent statements then do not oversubscribe the cores (measured: overview p95 ~15% lower).
 */
const ROLLUP_SETTINGS = { max_threads: 1 };

/** Bucket labels; core/query/dates.ts bucketLabel writes the same strings for gap-filling. */
const TIME_FORMATS: Record<TimeDimension, string> = {
  "time:minute": "%Y-%m-%d %H:%i:00",
  "time:hour": "%Y-%m-%d %H:00:00",
  "time:day": "%Y-%m-%d",
  "time:week": "",
  "time:month": "%Y-%m-01",
};

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

function column(d: PlainDimension | `event:props:${string}`, table: "events" | "sessions", s: Scope): string | null {
  if (isPropDimension(d))
    return table === "events" ? `custom_dimensions[${s.p.add("String", d.slice(PROPS_PREFIX.length))}]` : null;
  return (table === "events" ? EVENT_COLUMNS : SESSION_COLUMNS)[d];
}

const sessionsInRange = (s: Scope) =>
  `property_id = ${s.property} AND opened_at >= ${ms(s.p.add("Int64", s.q.from - DAY_MS))} AND opened_at < ${ms(s.to)}`;
const eventsInRange = (s: Scope, slackMs = 0) =>
  `property_id = ${s.property} AND event_timestamp >= ${ms(s.from)} AND event_timestamp < ${ms(slackMs ? s.p.add("Int64", s.q.to + slackMs) : s.to)}`;

/** One filter atom on one leg: a column when the table has it, else a semi-join on the session id. */
function atomSql(op: FilterOperator, dim: Dimension, values: string[], leg: Leg, s: Scope): string {
  if (leg.rollupDimension !== null || leg.table.endsWith("_rollup")) return operatorSql(op, "value", values, s.p);
  const plain = dim as PlainDimension;
  const own = column(plain, leg.side, s);
  if (own) return operatorSql(op, own, values, s.p);
  if (leg.side === "events")
    return `session_id IN (SELECT session_id FROM sessions FINAL WHERE ${sessionsInRange(s)} AND ${operatorSql(op, column(plain, "sessions", s) ?? "''", values, s.p)})`;
  // Sessions by what happened in them: "is_not /pricing" means sessions that never saw /pricing.
  const inner = operatorSql(POSITIVE[op], column(plain, "events", s) ?? "''", values, s.p);
  const negated = op !== POSITIVE[op];
  return `session_id ${negated ? "NOT IN" : "IN"} (SELECT session_id FROM events WHERE ${eventsInRange(s, DAY_MS)} AND ${inner})`;
}

function filterSql(f: Filter, leg: Leg, s: Scope): string {
  if (f[0] === "and" || f[0] === "or")
    return `(${(f[1] as Filter[]).map((g) => filterSql(g, leg, s)).join(f[0] === "and" ? " AND " : " OR ")})`;
  if (f[0] === "not") return `NOT (${filterSql(f[1] as Filter, leg, s)})`;
  return atomSql(f[0], f[1] as Dimension, f[2] as string[], leg, s);
}

function goalSql(goals: readonly GoalRef[], p: Params): string {
  return `(${goals
    .map((g) =>
      g.kind === "page"
        ? `(event_type = 'pageview' AND match(page_path, ${p.add("String", goalPathRegex(g.page_path ?? ""))}))`
        : `event_type = ${p.add("String", g.event_name ?? "")}`,
    )
    .join(" OR ")})`;
}

function timeSql(dim: TimeDimension, col: string, s: Scope): string {
  if (dim === "time:week") return `toString(toMonday(${col}, ${s.tz}))`;
  return `formatDateTime(${col}, '${TIME_FORMATS[dim]}', ${s.tz})`;
}

function dimensionSql(d: Dimension, leg: Leg, time: string, s: Scope): string {
  if (isTimeDimension(d)) return timeSql(d, time, s);
  if (leg.table.endsWith("_rollup")) return "value";
  if (leg.joinSessions && scopeOf(d) === "session") return `s_${SESSION_COLUMNS[d as PlainDimension]}`;
  return `toString(${column(d as PlainDimension, leg.side, s) ?? "''"})`;
}

function metricsSql(leg: Leg, s: Scope): string[] {
  const goal = s.q.goals.length > 0 ? (leg.side === "events" ? goalSql(s.q.goals, s.p) : null) : undefined;
  if (leg.side === "events" && leg.table === "events_rollup")
    return [
      `${uniqMergeSql("visitors")} AS e_visitors`,
      `${uniqMergeSql("visits")} AS e_visits`,
      "sum(pageviews) AS e_pageviews",
      "sum(events) AS e_events",
    ];
  if (leg.side === "sessions" && leg.table === "sessions_rollup")
    return [
      `${uniqMergeSql("visitors")} AS s_visitors`,
      "sum(visits) AS s_visits",
      "sum(bounces) AS s_bounces",
      "sum(duration) AS s_duration",
      "sum(pageviews) AS s_pageviews",
      "sum(events) AS s_events",
    ];
  if (leg.side === "events") {
    if (!goal)
      return [
        `${uniqSql("client_id")} AS e_visitors`,
        `${uniqSql("session_id")} AS e_visits`,
        "countIf(event_type = 'pageview') AS e_pageviews",
        "count() AS e_events",
      ];
    // With a goal: the figures are the converting ones; conversion_rate divides by everyone.
    return [
      `${uniqIfSql("client_id", `${goal} AS _conv`)} AS e_visitors`,
      `${uniqIfSql("session_id", "_conv")} AS e_visits`,
      "countIf(event_type = 'pageview' AND _conv) AS e_pageviews",
      "countIf(_conv) AS e_events",
      `${uniqSql("client_id")} AS e_conv_total`,
    ];
  }
  if (goal === undefined)
    return [
      `${uniqSql("client_id")} AS s_visitors`,
      "count() AS s_visits",
      "sum(is_bounce) AS s_bounces",
      "sum(duration) AS s_duration",
      "sum(pageviews) AS s_pageviews",
      "sum(events) AS s_events",
    ];
  const converted = `(session_id IN (SELECT session_id FROM events WHERE ${eventsInRange(s, DAY_MS)} AND ${goalSql(s.q.goals, s.p)}))`;
  return [
    `${uniqIfSql("client_id", `${converted} AS _conv`)} AS s_visitors`,
    "countIf(_conv) AS s_visits",
    "sumIf(is_bounce, _conv) AS s_bounces",
    "sumIf(duration, _conv) AS s_duration",
    "sumIf(pageviews, _conv) AS s_pageviews",
    "sumIf(events, _conv) AS s_events",
    `${uniqSql("client_id")} AS s_conv_total`,
  ];
}

/** Only the aggregates the outer query reads: ClickHouse does not prune them across a join, and each sketch merge is costly. */
function wanted(aggregates: string[], needed: ReadonlySet<string>, s: Scope): string[] {
  // With a goal, the first aggregate defines `_conv` for the others: keep them together.
  if (s.q.goals.length > 0) return aggregates;
  return aggregates.filter((a) => needed.has(a.slice(a.lastIndexOf(" AS ") + 4)));
}

function legSql(leg: Leg, s: Scope, needed: ReadonlySet<string>): string {
  const rollup = leg.table.endsWith("_rollup");
  const conditions: string[] = [];
  if (rollup) conditions.push(`dim = ${s.p.add("String", leg.rollupDimension ?? "")}`);
  if (!s.q.include.bots) conditions.push("NOT is_bot");
  for (const f of s.q.filters) if (f[1] !== GOAL_DIMENSION) conditions.push(filterSql(f, leg, s));
  const aggregates = wanted(metricsSql(leg, s), needed, s);
  let source: Source;
  if (rollup) source = rollupSource(leg, s, conditions, aggregates);
  else {
    const time = leg.side === "events" ? "event_timestamp" : "opened_at";
    const where = [`property_id = ${s.property}`, `${time} >= ${ms(s.from)}`, `${time} < ${ms(s.to)}`, ...conditions];
    source = { from: leg.table === "sessions" ? "sessions FINAL" : leg.table, time, where };
  }
  if (leg.joinSessions) {
    const cols = [...new Set(s.q.dimensions.filter((d) => scopeOf(d) === "session"))].map(
      (d) => `${SESSION_COLUMNS[d as PlainDimension]} AS s_${SESSION_COLUMNS[d as PlainDimension]}`,
    );
    source.from = `events LEFT JOIN (SELECT session_id AS s_session_id, ${cols.join(", ")} FROM sessions FINAL WHERE ${sessionsInRange(s)}) AS js ON session_id = js.s_session_id`;
  }
  const dims = s.q.dimensions.map((d, i) => `${dimensionSql(d, leg, source.time, s)} AS d${i}`);
  const where = source.where.length > 0 ? ` WHERE ${source.where.join(" AND ")}` : "";
  const group = dims.length > 0 ? ` GROUP BY ${s.q.dimensions.map((_, i) => `d${i}`).join(", ")}` : "";
  // Signed rows can net a group to nothing (a visit moved to another exit page): raw has no such group.
  const having = leg.table === "sessions_rollup" && dims.length > 0 ? " HAVING s_visits > 0" : "";
  return `SELECT ${[...dims, ...aggregates].join(", ")} FROM ${source.from}${where}${group}${having}`;
}

const ratio = (a: string, b: string, digits: number) => `round(if(${b} = 0, 0, ${a} / ${b}), ${digits})`;

function metricSql(m: Metric, plan: Plan): string {
  const e = plan.legs.some((l) => l.side === "events");
  const only = (name: string) => (e && plan.mode !== "session" ? `e_${name}` : `s_${name}`);
  const visitsCol = plan.mode === "event" ? "e_visits" : "s_visits";
  switch (m) {
    case "visitors":
      return only("visitors");
    case "pageviews":
      return only("pageviews");
    case "events":
      return only("events");
    case "visits":
      return visitsCol;
    case "bounce_rate":
      return ratio("s_bounces", "s_visits", 4);
    case "avg_session_duration":
      return ratio("s_duration", "s_visits", 1);
    case "views_per_visit":
      return ratio(only("pageviews"), visitsCol, 2);
    case "conversion_rate":
      return ratio(only("visitors"), only("conv_total"), 4);
  }
}

/** The whole statement for a ClickHouse plan. */
export function buildQuerySql(q: ResolvedQuery, plan: Plan): BuiltQuery {
  const p = new Params();
  const s: Scope = {
    q,
    p,
    property: p.add("String", q.property_id),
    from: p.add("Int64", q.from),
    to: p.add("Int64", q.to),
    tz: p.add("String", q.timezone),
  };
  const dims = q.dimensions.map((_, i) => `d${i}`);
  const outer = q.metrics.map((m) => `${metricSql(m, plan)} AS ${m}`);
  const needed = new Set(outer.join(" ").match(/\b[es]_[a-z_]+\b/g) ?? []);
  needed.add("s_visits"); // the sessions rollup's HAVING reads it
  const legs = plan.legs.map((leg) => `(${legSql(leg, s, needed)}) AS ${leg.side === "events" ? "e" : "s"}`);
  const join = dims.length > 0 ? ` FULL OUTER JOIN ${legs[1]} USING (${dims.join(", ")})` : ` CROSS JOIN ${legs[1]}`;
  const from = legs.length === 2 ? `${legs[0]}${join}` : legs[0];
  const gapFill =
    q.dimensions.length === 1 && isTimeDimension(q.dimensions[0] ?? "") ? (q.dimensions[0] as TimeDimension) : null;
  const select = [...dims, ...outer];
  if (q.include.total_rows && !gapFill) select.push("count() OVER () AS _total");
  const order = q.order_by.map(([key, dir]) => {
    const i = q.dimensions.indexOf(key as Dimension);
    return `${i >= 0 ? `d${i}` : key} ${dir === "desc" ? "DESC" : "ASC"}`;
  });
  // One row without dimensions: only an offset can change it, and sorting it costs planning time.
  const single = q.dimensions.length === 0 && q.offset === 0;
  const page =
    gapFill || single
      ? ""
      : ` ORDER BY ${order.join(", ")} LIMIT ${p.add("UInt32", q.limit)} OFFSET ${p.add("UInt32", q.offset)}`;
  const settings = plan.legs.every((l) => l.table.endsWith("_rollup")) ? ROLLUP_SETTINGS : {};
  return { sql: `SELECT ${select.join(", ")} FROM ${from}${page}`, params: p.values, gapFill, settings };
}
