/**
 * validate → normalise → plan → **SQL** → run → shape, for a plan the warehouse answers: the same
 * ResolvedQuery as core/query/sql.ts builds for ClickHouse, compiled with Kysely into PostgreSQL
 * SQL that Redshift runs too. One subquery per leg (events side, sessions side, always the raw
 * tables: the warehouse has no rollups the query language reads), joined on the dimension values;
 * the result rows have ClickHouse's shape (`d0…`, one column per metric, `_total`), so
 * core/query/shape.ts shapes both. Values only as parameters; identifiers only from whitelists.
 */
import { sql } from "kysely";
import { SCHEDULE_JOB } from "../warehouse/jobs.ts";
import { SESSION_COLUMNS } from "./columns.ts";
import { companionQuery } from "./companions.ts";
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
import { column, filterSql, sessionsInRange, sessionsSource } from "./warehouse-filters.ts";
import {
  convertedSessions,
  currencySql,
  legAggregates,
  metricSql,
  revenueSql,
  SCROLL_DEPTH,
  SCROLL_ROWS,
  type Use,
  wantsRevenue,
} from "./warehouse-metrics.ts";
import { at, type CompiledQuery, compile, compiler, type Fragment, type WarehouseScope } from "./warehouse-scope.ts";

export interface WarehouseQuery {
  main: CompiledQuery;
  /** With a revenue metric: the other currencies the answer met (ClickHouse's `_other_currencies` window). */
  currencies: CompiledQuery | null;
  /** Set when the result is one time series: the shaper fills the gaps, orders and pages it. */
  gapFill: TimeDimension | null;
}

/** Bucket labels as TO_CHAR writes them: the same strings as ClickHouse's (core/query/dates.ts bucketLabel). */
const TIME_FORMATS: Record<TimeDimension, string> = {
  "time:minute": "YYYY-MM-DD HH24:MI:00",
  "time:hour": "YYYY-MM-DD HH24:00:00",
  "time:day": "YYYY-MM-DD",
  "time:week": "YYYY-MM-DD",
  "time:month": "YYYY-MM-01",
};

/** The UTC TIMESTAMP as wall-clock time in the query's zone, then its bucket's label. */
function timeSql(dim: TimeDimension, time: string, s: WarehouseScope): Fragment {
  const local = sql`((${sql.ref(time)} AT TIME ZONE 'UTC') AT TIME ZONE ${s.q.timezone})`;
  const bucket = dim === "time:week" ? sql`DATE_TRUNC('week', ${local})` : local;
  return sql`TO_CHAR(${bucket}, ${sql.lit(TIME_FORMATS[dim])})`;
}

const sessionColumn = (d: Dimension) => SESSION_COLUMNS[d as PlainDimension] ?? "";

function dimensionSql(d: Dimension, leg: Leg, time: string, s: WarehouseScope): Fragment {
  if (isTimeDimension(d)) return timeSql(d, time, s);
  if (leg.joinSessions && scopeOf(d) === "session") return sql`COALESCE(${sql.ref(`s_${sessionColumn(d)}`)}, '')`;
  return column(d as PlainDimension, leg.side) ?? sql`''`;
}

/** A leg's rows: its table (joined as it needs) and the conditions every query of it shares. */
function legSource(leg: Leg, s: WarehouseScope): { from: Fragment; where: Fragment; time: string } {
  const time = leg.side === "events" ? "event_timestamp" : "opened_at";
  const conditions = [
    sql`property_id = ${s.q.property_id}`,
    sql`${sql.ref(time)} >= ${at(s.q.from)}`,
    sql`${sql.ref(time)} < ${at(s.q.to)}`,
    ...(s.q.include.bots ? [] : [sql`NOT is_bot`]),
    ...s.q.filters.filter((f) => f[1] !== GOAL_DIMENSION).map((f) => filterSql(f, leg.side, s)),
  ];
  let from: Fragment;
  if (leg.side === "sessions")
    from =
      s.q.goals.length > 0
        ? sql`${sessionsSource(s)} LEFT JOIN ${convertedSessions(s)} cv ON cv.conv_session = session_id`
        : sessionsSource(s);
  else if (leg.joinSessions) {
    const names = [...new Set(s.q.dimensions.filter((d) => scopeOf(d) === "session").map(sessionColumn))];
    const cols = names.map((c) => sql`${sql.ref(c)} AS ${sql.ref(`s_${c}`)}`);
    from = sql`events LEFT JOIN (SELECT session_id AS s_session_id, ${sql.join(cols)} FROM ${sessionsSource(s)} WHERE ${sessionsInRange(s)}) js ON session_id = js.s_session_id`;
  } else from = sql`events`;
  return { from, where: sql.join(conditions, sql` AND `), time };
}

const dimRefs = (q: ResolvedQuery) => q.dimensions.map((_, i) => sql.ref(`d${i}`));

/** One leg: the aggregates `needed` names, grouped by the dimensions. */
function legSql(leg: Leg, s: WarehouseScope, needed: ReadonlySet<string>): Fragment {
  const { from, where, time } = legSource(leg, s);
  const dims = s.q.dimensions.map((d, i) => sql`${dimensionSql(d, leg, time, s)} AS ${sql.ref(`d${i}`)}`);
  const aggregates = legAggregates(leg, s).filter(([name]) => needed.has(name));
  const selected = aggregates.map(([name, agg]) => sql`${agg} AS ${sql.ref(name)}`);
  if (selected.length === 0) selected.push(sql`COUNT(*) AS _rows`);
  const groupBy = dims.length > 0 ? sql` GROUP BY ${sql.join(dimRefs(s.q))}` : sql``;
  const main = sql`SELECT ${sql.join([...dims, ...selected])} FROM ${from} WHERE ${where}${groupBy}`;
  if (leg.side !== "events" || !needed.has("e_scroll_depth")) return main;
  // Each visit's deepest scroll per group, then their average: two levels of aggregation.
  const perVisit = sql`SELECT ${sql.join([...dims, sql`${SCROLL_DEPTH} AS depth`])} FROM ${from} WHERE ${where} AND ${SCROLL_ROWS} GROUP BY ${sql.join([...dimRefs(s.q), sql`session_id`])}`;
  const scroll = sql`SELECT ${sql.join([...dimRefs(s.q), sql`AVG(depth) AS e_scroll_depth`])} FROM (${perVisit}) pv${groupBy}`;
  const on =
    s.q.dimensions.length > 0
      ? sql.join(
          dimRefs(s.q).map((_, i) => sql`m.${sql.ref(`d${i}`)} = sd.${sql.ref(`d${i}`)}`),
          sql` AND `,
        )
      : sql`1 = 1`;
  return sql`SELECT m.*, sd.e_scroll_depth FROM (${main}) m LEFT JOIN (${scroll}) sd ON ${on}`;
}

/** A companion's figures as one subquery to join: `t` (the totals, one row) or `x` (pageviews per page). */
function companionSql(c: Companion, s: WarehouseScope): Fragment {
  const cs: WarehouseScope = { ...s, q: companionQuery(s.q, c.role) };
  const [leg] = c.legs;
  if (!leg) throw new Error(`companion ${c.role} has no leg`);
  if (c.role === "exit_pages")
    return sql` LEFT JOIN (SELECT d0, e_pageviews AS x_pageviews FROM (${legSql(leg, cs, new Set(["e_pageviews"]))}) xl) x USING (d0)`;
  const side = leg.side === "events" ? "e" : "s";
  const goal = s.q.goals.length > 0;
  const wanted = new Set([`${side}_visitors`, ...(goal ? [`${side}_conv_total`] : [])]);
  const cols = [
    sql`${sql.ref(`${side}_visitors`)} AS t_visitors`,
    ...(goal ? [sql`${sql.ref(`${side}_conv_total`)} AS t_conv_total`] : []),
  ];
  return sql` CROSS JOIN (SELECT ${sql.join(cols)} FROM (${legSql(leg, cs, wanted)}) tl) t`;
}

/** The other currencies revenue was recorded in, over the answer's events. */
function currenciesSql(plan: Plan, s: WarehouseScope): CompiledQuery | null {
  const leg = plan.legs.find((l) => l.side === "events");
  if (!wantsRevenue(s.q.metrics) || !leg) return null;
  const { from, where } = legSource(leg, s);
  const currency = s.q.include.currency ?? s.q.propertyCurrency;
  return compile(
    sql`SELECT DISTINCT currency FROM (SELECT ${currencySql(s)} AS currency FROM ${from} WHERE ${where} AND ${revenueSql(s)}) c WHERE currency <> ${currency} ORDER BY currency`,
  );
}

/** The whole statement for a warehouse plan. `historyFrom`: how far back `visit:visitor_type` looks. */
export function buildWarehouseSql(q: ResolvedQuery, plan: Plan, historyFrom = 0): WarehouseQuery {
  const s: WarehouseScope = { q, historyFrom };
  const needed = new Set<string>();
  const use: Use = (name) => {
    needed.add(name);
    return sql`COALESCE(${sql.ref(name)}, 0)`;
  };
  const breakdown = q.dimensions.length > 0;
  const metrics = q.metrics.map((m) => sql`${metricSql(m, plan, breakdown, use)} AS ${sql.ref(m)}`);
  const legs = plan.legs.map((leg) => sql`(${legSql(leg, s, needed)}) ${sql.ref(leg.side === "events" ? "e" : "s")}`);
  const [first, second] = legs;
  if (!first) throw new Error("a warehouse plan has at least one leg");
  const join = !second
    ? sql``
    : breakdown
      ? sql` FULL OUTER JOIN ${second} USING (${sql.join(dimRefs(q))})`
      : sql` CROSS JOIN ${second}`;
  const companions = (plan.companions ?? []).map((c) => companionSql(c, s));
  const gapFill =
    q.dimensions.length === 1 && isTimeDimension(q.dimensions[0] ?? "") ? (q.dimensions[0] as TimeDimension) : null;
  const select = [...dimRefs(q), ...metrics];
  if (q.include.total_rows && !gapFill) select.push(sql`COUNT(*) OVER () AS _total`);
  const order = q.order_by.map(([key, dir]) => {
    const i = q.dimensions.indexOf(key as Dimension);
    return sql`${sql.ref(i >= 0 ? `d${i}` : key)} ${sql.raw(dir === "desc" ? "DESC" : "ASC")}`;
  });
  const single = q.dimensions.length === 0 && q.offset === 0;
  const page = gapFill || single ? sql`` : sql` ORDER BY ${sql.join(order)} LIMIT ${q.limit} OFFSET ${q.offset}`;
  const main = sql`SELECT ${sql.join(select)} FROM ${first}${join}${sql.join(companions, sql``)}${page}`;
  return { main: compile(main), currencies: currenciesSql(plan, s), gapFill };
}

/** Every row carries the answer's other currencies, as ClickHouse's window puts them there. */
export function withOtherCurrencies(
  rows: readonly Record<string, unknown>[],
  currencies: readonly Record<string, unknown>[] | null,
): Record<string, unknown>[] {
  if (!currencies) return [...rows];
  const list = currencies.map((r) => String(r.currency));
  return rows.map((r) => ({ ...r, _other_currencies: list }));
}

/**
 * How far the warehouse is loaded: the hourly schedule's frontier, before which every hour is
 * loaded (core/warehouse/jobs.ts). Not the last hour any load finished: late loads and backfills
 * run ahead of the frontier and out of order, so hours before theirs may be missing (the dev stack
 * answered 63 of 65 imported events while one hour's load was still pending).
 */
export const warehouseThroughSql = (): CompiledQuery =>
  compiler
    .selectFrom("job_runs")
    .select((eb) => eb.fn.max("period_end").as("frontier"))
    .where("job", "=", SCHEDULE_JOB)
    .compile();

/** The boundary `warehouseThroughSql`'s row gives: epoch ms, or null when nothing is loaded. */
export function warehouseThrough(row: Record<string, unknown> | undefined): number | null {
  const at = row?.frontier;
  return at instanceof Date ? at.getTime() : null;
}
