/**
 * The metrics as warehouse SQL: each leg's aggregates (`e_…` events side, `s_…` sessions side,
 * the names core/query/sql-metrics.ts gives them) and each metric's figure from them and the
 * companions' (`t_…` totals, `x_…` exit pages). Unique counts are exact COUNT(DISTINCT …) where
 * ClickHouse estimates them with a sketch; conditional aggregates are CASE inside the aggregate
 * (Redshift has no FILTER clause).
 */
import { sql } from "kysely";
import { REVENUE_METRICS } from "./metric-rules.ts";
import type { Leg, Plan } from "./plan.ts";
import { RAW_EVENT_METRICS } from "./plan.ts";
import type { Metric } from "./spec.ts";
import { eventsInRange, goalSql } from "./warehouse-filters.ts";
import { type Fragment, mapText, metricValue, ratio, type WarehouseScope } from "./warehouse-scope.ts";

type Aggregates = [name: string, sql: Fragment][];

const count = (condition: Fragment) => sql`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
const distinct = (column: string, condition: Fragment | null) =>
  condition
    ? sql`COUNT(DISTINCT CASE WHEN ${condition} THEN ${sql.ref(column)} END)`
    : sql`COUNT(DISTINCT ${sql.ref(column)})`;

/** An event's revenue currency: its `currency` dimension in capitals, else the property's. */
export function currencySql(s: WarehouseScope): Fragment {
  const tagged = mapText("custom_dimensions", "currency");
  return sql`CASE WHEN ${tagged} = '' THEN ${s.q.propertyCurrency} ELSE UPPER(${tagged}) END`;
}

/** Events carrying revenue (with a goal: converting ones only, as Plausible's revenue goals). */
export function revenueSql(s: WarehouseScope): Fragment {
  const has = sql`${mapText("custom_metrics", "revenue")} <> ''`;
  return s.q.goals.length > 0 ? sql`${has} AND ${goalSql(s.q.goals)}` : has;
}

const ENGAGEMENT = sql`event_type = 'engagement'`;
/** The tracker sends `engagement_ms`; Plausible's `e` lands as `engaged_ms`; an event carries one. */
const ENGAGED_MS = sql`(${metricValue("engagement_ms")} + ${metricValue("engaged_ms")})`;

function customAggregates(s: WarehouseScope): Aggregates {
  const currency = s.q.include.currency ?? s.q.propertyCurrency;
  const inCurrency = sql`${revenueSql(s)} AND ${currencySql(s)} = ${currency}`;
  return [
    ["e_revenue", sql`SUM(CASE WHEN ${inCurrency} THEN ${metricValue("revenue")} ELSE 0 END)`],
    ["e_revenue_events", count(inCurrency)],
    ["e_engaged_ms", sql`SUM(CASE WHEN ${ENGAGEMENT} THEN ${ENGAGED_MS} ELSE 0 END)`],
    ["e_engaged_visits", distinct("session_id", ENGAGEMENT)],
  ];
}

/**
 * Each visit's deepest scroll on the page, per group (a leg's dimensions and the session): the
 * leg averages them in a subquery of its own (core/query/warehouse-sql.ts), as ClickHouse's
 * `maxMapIf` does in one pass. Depths above 100 are not percentages: left out, as there.
 */
export const SCROLL_ROWS = sql`${ENGAGEMENT} AND ${mapText("custom_metrics", "scroll_depth")} <> '' AND ${metricValue("scroll_depth")} <= 100`;
export const SCROLL_DEPTH = sql`MAX(${metricValue("scroll_depth")})`;

/** With a goal on the sessions side: a session converts when one of its events does (joined as `cv`). */
export const convertedSessions = (s: WarehouseScope): Fragment =>
  sql`(SELECT DISTINCT session_id AS conv_session FROM events WHERE ${eventsInRange(s, 86_400_000)} AND ${goalSql(s.q.goals)})`;

/** Every aggregate a leg can compute, by name. */
export function legAggregates(leg: Leg, s: WarehouseScope): Aggregates {
  const goal = s.q.goals.length > 0;
  if (leg.side === "events") {
    const custom = s.q.metrics.some((m) => RAW_EVENT_METRICS.includes(m)) ? customAggregates(s) : [];
    const conv = goal ? goalSql(s.q.goals) : null;
    return [
      ["e_visitors", distinct("client_id", conv)],
      ["e_visits", distinct("session_id", conv)],
      ["e_pageviews", count(conv ? sql`event_type = 'pageview' AND ${conv}` : sql`event_type = 'pageview'`)],
      ["e_events", conv ? count(conv) : sql`COUNT(*)`],
      ...(goal ? ([["e_conv_total", distinct("client_id", null)]] as Aggregates) : []),
      ...custom,
    ];
  }
  const conv = goal ? sql`cv.conv_session IS NOT NULL` : null;
  const sum = (col: string) =>
    conv ? sql`SUM(CASE WHEN ${conv} THEN ${sql.ref(col)} ELSE 0 END)` : sql`SUM(${sql.ref(col)})`;
  return [
    ["s_visitors", distinct("client_id", conv)],
    ["s_visits", conv ? count(conv) : sql`COUNT(*)`],
    ["s_bounces", count(conv ? sql`is_bounce AND ${conv}` : sql`is_bounce`)],
    ["s_duration", sum("duration")],
    ["s_pageviews", sum("pageviews")],
    ["s_events", sum("events")],
    ...(goal ? ([["s_conv_total", distinct("client_id", null)]] as Aggregates) : []),
  ];
}

/** Reads an aggregate in the outer select: 0 where a joined side has no row (as ClickHouse's join defaults). */
export type Use = (name: string) => Fragment;

/** Each metric's figure in the outer select (core/query/sql-metrics.ts metricSql, term for term). */
export function metricSql(m: Metric, plan: Plan, breakdown: boolean, use: Use): Fragment {
  const e = plan.legs.some((l) => l.side === "events");
  const only = (name: string) => use(e && plan.mode !== "session" ? `e_${name}` : `s_${name}`);
  const visits = use(plan.mode === "event" ? "e_visits" : "s_visits");
  switch (m) {
    case "visitors":
      return only("visitors");
    case "pageviews":
      return only("pageviews");
    case "events":
      return only("events");
    case "visits":
      return visits;
    case "bounce_rate":
      return ratio(use("s_bounces"), use("s_visits"), 4);
    case "avg_session_duration":
      return ratio(use("s_duration"), use("s_visits"), 1);
    case "views_per_visit":
      return ratio(only("pageviews"), visits, 2);
    case "conversion_rate":
      return ratio(only("visitors"), breakdown ? use("t_conv_total") : only("conv_total"), 4);
    case "group_conversion_rate":
      return ratio(only("visitors"), only("conv_total"), 4);
    case "percentage":
      return ratio(only("visitors"), use("t_visitors"), 4);
    case "exit_rate":
      return ratio(use("s_visits"), use("x_pageviews"), 4);
    case "total_revenue":
      return sql`ROUND(CAST(${use("e_revenue")} AS DECIMAL(38, 10)), 3)`;
    case "average_revenue":
      return ratio(use("e_revenue"), use("e_revenue_events"), 3);
    case "time_on_page":
      return ratio(sql`CAST(${use("e_engaged_ms")} AS DOUBLE PRECISION) / 1000`, use("e_engaged_visits"), 1);
    case "scroll_depth":
      return sql`CAST(ROUND(${use("e_scroll_depth")}) AS INTEGER)`;
  }
}

export const wantsRevenue = (metrics: readonly Metric[]) => metrics.some((m) => REVENUE_METRICS.includes(m));
