/**
 * validate → normalise → plan → **SQL** → run → shape. Builds one ClickHouse statement per
 * (query, plan): one subquery per leg (events side, sessions side), joined on the dimension
 * values. Values only ever travel as `{pN:Type}` parameters; identifiers come only from the
 * whitelists below, keyed by the dimension names the query spec allows.
 */
import { SESSION_COLUMNS } from "./columns.ts";
import { companionQuery } from "./companions.ts";
import { goalRowsSql } from "./goal-rollup.ts";
import type { ResolvedQuery } from "./normalise.ts";
import type { Companion, Leg, Plan } from "./plan.ts";
import {
  type Dimension,
  GOAL_DIMENSION,
  isTimeDimension,
  type PlainDimension,
  scopeOf,
  type TimeDimension,
} from "./spec.ts";
import { column, filterSql, sessionsInRange } from "./sql-filters.ts";
import { legMetricsSql, metricSql, otherCurrenciesSql } from "./sql-metrics.ts";
import { rollupSource, type Source } from "./sql-rollup.ts";
import { ms, Params, type Scope } from "./sql-scope.ts";
import { sessionsSource } from "./visitor-type.ts";

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
/**
 * A raw statement's semi-join sets (sessions matching a filter) hold up to millions of ids; left to
 * itself ClickHouse tests each against the skip indexes granule by granule, which costs ten times
 * the scan it saves (measured on the bench data: 2 filters × pages 5,334 → 567 ms). Small sets
 * (a handful of sessions) still use the indexes.
 */
const RAW_SETTINGS = { use_index_for_in_with_subqueries_max_values: 10_000 };

/** Bucket labels; core/query/dates.ts bucketLabel writes the same strings for gap-filling. */
const TIME_FORMATS: Record<TimeDimension, string> = {
  "time:minute": "%Y-%m-%d %H:%i:00",
  "time:hour": "%Y-%m-%d %H:00:00",
  "time:day": "%Y-%m-%d",
  "time:week": "",
  "time:month": "%Y-%m-01",
};

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

function legSql(leg: Leg, s: Scope, needed: ReadonlySet<string>): string {
  const rollup = leg.table.endsWith("_rollup");
  const conditions: string[] = [];
  if (rollup && s.q.goals.length > 0) conditions.push(goalRowsSql(s.q.goals, s.p));
  else if (rollup) conditions.push(`dim = ${s.p.add("String", leg.rollupDimension ?? "")}`);
  if (!s.q.include.bots) conditions.push("NOT is_bot");
  for (const f of s.q.filters) if (f[1] !== GOAL_DIMENSION) conditions.push(filterSql(f, leg, s));
  const aggregates = legMetricsSql(leg, s, needed);
  let source: Source;
  if (rollup) source = rollupSource(leg, s, conditions, aggregates);
  else {
    const time = leg.side === "events" ? "event_timestamp" : "opened_at";
    const where = [`property_id = ${s.property}`, `${time} >= ${ms(s.from)}`, `${time} < ${ms(s.to)}`, ...conditions];
    source = { from: leg.table === "sessions" ? sessionsSource(s) : leg.table, time, where };
  }
  if (leg.joinSessions) {
    const cols = [...new Set(s.q.dimensions.filter((d) => scopeOf(d) === "session"))].map(
      (d) => `${SESSION_COLUMNS[d as PlainDimension]} AS s_${SESSION_COLUMNS[d as PlainDimension]}`,
    );
    source.from = `events LEFT JOIN (SELECT session_id AS s_session_id, ${cols.join(", ")} FROM ${sessionsSource(s)} WHERE ${sessionsInRange(s)}) AS js ON session_id = js.s_session_id`;
  }
  const dims = s.q.dimensions.map((d, i) => `${dimensionSql(d, leg, source.time, s)} AS d${i}`);
  const where = source.where.length > 0 ? ` WHERE ${source.where.join(" AND ")}` : "";
  const group = dims.length > 0 ? ` GROUP BY ${s.q.dimensions.map((_, i) => `d${i}`).join(", ")}` : "";
  // Signed rows can net a group to nothing (a visit moved to another exit page): raw has no such group.
  const having = leg.table === "sessions_rollup" && dims.length > 0 ? " HAVING s_visits > 0" : "";
  return `SELECT ${[...dims, ...aggregates].join(", ")} FROM ${source.from}${where}${group}${having}`;
}

/**
 * A companion's figures as one subquery to join: `t` (the totals, one row) or `x` (pageviews per
 * page, keyed like the query's one exit-page dimension). Same placeholders as the query's own legs.
 */
function companionSql(c: Companion, s: Scope): string {
  const cs: Scope = { ...s, q: companionQuery(s.q, c.role) };
  const [leg] = c.legs;
  if (!leg) throw new Error(`companion ${c.role} has no leg`);
  const side = leg.side === "events" ? "e" : "s";
  if (c.role === "exit_pages")
    return ` LEFT JOIN (SELECT d0, e_pageviews AS x_pageviews FROM (${legSql(leg, cs, new Set(["e_pageviews"]))})) AS x USING (d0)`;
  const goal = s.q.goals.length > 0;
  const wanted = new Set([`${side}_visitors`, ...(goal ? [`${side}_conv_total`] : [])]);
  const cols = [`${side}_visitors AS t_visitors`, ...(goal ? [`${side}_conv_total AS t_conv_total`] : [])];
  return ` CROSS JOIN (SELECT ${cols.join(", ")} FROM (${legSql(leg, cs, wanted)})) AS t`;
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
    historyFrom: plan.historyFrom ?? q.from,
  };
  const dims = q.dimensions.map((_, i) => `d${i}`);
  const outer = q.metrics.map((m) => `${metricSql(m, plan, dims.length > 0)} AS ${m}`);
  const currencies = otherCurrenciesSql(q.metrics);
  const needed = new Set(outer.join(" ").match(/\b[es]_[a-z_]+\b/g) ?? []);
  needed.add("s_visits"); // the sessions rollup's HAVING reads it
  if (currencies) needed.add("e_other_currencies");
  const legs = plan.legs.map((leg) => `(${legSql(leg, s, needed)}) AS ${leg.side === "events" ? "e" : "s"}`);
  const join = dims.length > 0 ? ` FULL OUTER JOIN ${legs[1]} USING (${dims.join(", ")})` : ` CROSS JOIN ${legs[1]}`;
  const companions = (plan.companions ?? []).map((c) => companionSql(c, s)).join("");
  const from = `${legs.length === 2 ? `${legs[0]}${join}` : legs[0]}${companions}`;
  const gapFill =
    q.dimensions.length === 1 && isTimeDimension(q.dimensions[0] ?? "") ? (q.dimensions[0] as TimeDimension) : null;
  const select = [...dims, ...outer];
  if (q.include.total_rows && !gapFill) select.push("count() OVER () AS _total");
  if (currencies) select.push(currencies);
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
  const allLegs = [...plan.legs, ...(plan.companions ?? []).flatMap((c) => c.legs)];
  const settings = allLegs.every((l) => l.table.endsWith("_rollup")) ? ROLLUP_SETTINGS : RAW_SETTINGS;
  return { sql: `SELECT ${select.join(", ")} FROM ${from}${page}`, params: p.values, gapFill, settings };
}
