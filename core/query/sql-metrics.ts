/**
 * The metrics as SQL: each leg's aggregates (named `e_…` on the events side, `s_…` on the
 * sessions side) and each metric's figure in the outer select, from those aggregates and the
 * companions' (`t_…` totals, `x_…` exit pages; core/query/companions.ts). core/query/sql.ts builds
 * the rest of the statement; values only as placeholders.
 */
import { DAY_MS } from "../time.ts";
import { goalRollupAggregates } from "./goal-rollup.ts";
import { REVENUE_METRICS } from "./metric-rules.ts";
import { type Leg, type Plan, RAW_EVENT_METRICS, sketchPrecision } from "./plan.ts";
import { uniqIfSql, uniqMergeSql, uniqSql } from "./sketch.ts";
import type { Metric } from "./spec.ts";
import { eventsInRange, goalSql, sessionSemiJoin } from "./sql-filters.ts";
import type { Scope } from "./sql-scope.ts";

/**
 * An event's revenue currency: its `custom_dimensions['currency']` in capitals (Plausible's `$`,
 * GA4's `currency` param and `/collect` all land there), else the property's currency.
 */
function currencySql(s: Scope): string {
  return `if(custom_dimensions['currency'] = '', ${s.p.add("String", s.q.propertyCurrency)}, upper(custom_dimensions['currency']))`;
}

/** The tracker sends `engagement_ms`; Plausible's `e` lands as `engaged_ms`; an event carries one. */
const ENGAGED_MS = "(custom_metrics['engagement_ms'] + custom_metrics['engaged_ms'])";
const ENGAGEMENT = "event_type = 'engagement'";

/**
 * Aggregates of custom metrics over raw events. `converting`: with a goal, only conversions carry
 * revenue (as Plausible's revenue goals); engagement is measured over all the page's events.
 */
function customMetricAggregates(s: Scope, converting: string | null): string[] {
  const currency = s.p.add("String", s.q.include.currency ?? s.q.propertyCurrency);
  const hasRevenue = `mapContains(custom_metrics, 'revenue')${converting ? ` AND ${converting}` : ""}`;
  const inCurrency = `${hasRevenue} AND ${currencySql(s)} = ${currency}`;
  return [
    `sumIf(custom_metrics['revenue'], ${inCurrency}) AS e_revenue`,
    `countIf(${inCurrency}) AS e_revenue_events`,
    `groupUniqArrayIf(${currencySql(s)}, ${hasRevenue} AND ${currencySql(s)} != ${currency}) AS e_other_currencies`,
    `sumIf(${ENGAGED_MS}, ${ENGAGEMENT}) AS e_engaged_ms`,
    `uniqExactIf(session_id, ${ENGAGEMENT}) AS e_engaged_visits`,
    // Each visit's deepest scroll on the page (a page left and revisited reports several), averaged.
    // Depths above 100 are not percentages (a hand-made /collect event): left out, as Plausible does.
    `arrayAvg(maxMapIf([session_id], [custom_metrics['scroll_depth']], ${ENGAGEMENT} AND mapContains(custom_metrics, 'scroll_depth') AND custom_metrics['scroll_depth'] <= 100).2) AS e_scroll_depth`,
  ];
}

/** Every aggregate a leg can compute; `legMetricsSql` keeps those the outer select reads. With a goal, `_conv` says a row converts. */
function legAggregates(leg: Leg, s: Scope): string[] {
  const p = sketchPrecision(s.q);
  const goal = s.q.goals.length > 0;
  if (leg.side === "events" && leg.table === "events_rollup" && goal) return goalRollupAggregates();
  if (leg.side === "events" && leg.table === "events_rollup")
    return [
      `${uniqMergeSql("visitors", p)} AS e_visitors`,
      `${uniqMergeSql("visits", 12)} AS e_visits`,
      "sum(pageviews) AS e_pageviews",
      "sum(events) AS e_events",
    ];
  if (leg.side === "sessions" && leg.table === "sessions_rollup")
    return [
      `${uniqMergeSql("visitors", p)} AS s_visitors`,
      "sum(visits) AS s_visits",
      "sum(bounces) AS s_bounces",
      "sum(duration) AS s_duration",
      "sum(pageviews) AS s_pageviews",
      "sum(events) AS s_events",
    ];
  if (leg.side === "events") {
    const custom = s.q.metrics.some((m) => RAW_EVENT_METRICS.includes(m))
      ? customMetricAggregates(s, goal ? "_conv" : null)
      : [];
    if (!goal)
      return [
        `${uniqSql("client_id", p)} AS e_visitors`,
        `${uniqSql("session_id", 12)} AS e_visits`,
        "countIf(event_type = 'pageview') AS e_pageviews",
        "count() AS e_events",
        ...custom,
      ];
    // With a goal: the figures are the converting ones; conversion rates divide by everyone.
    return [
      `${uniqIfSql("client_id", "_conv", p)} AS e_visitors`,
      `${uniqIfSql("session_id", "_conv", 12)} AS e_visits`,
      "countIf(event_type = 'pageview' AND _conv) AS e_pageviews",
      "countIf(_conv) AS e_events",
      `${uniqSql("client_id", p)} AS e_conv_total`,
      ...custom,
    ];
  }
  if (!goal)
    return [
      `${uniqSql("client_id", p)} AS s_visitors`,
      "count() AS s_visits",
      "sum(is_bounce) AS s_bounces",
      "sum(duration) AS s_duration",
      "sum(pageviews) AS s_pageviews",
      "sum(events) AS s_events",
    ];
  return [
    `${uniqIfSql("client_id", "_conv", p)} AS s_visitors`,
    "countIf(_conv) AS s_visits",
    "sumIf(is_bounce, _conv) AS s_bounces",
    "sumIf(duration, _conv) AS s_duration",
    "sumIf(pageviews, _conv) AS s_pageviews",
    "sumIf(events, _conv) AS s_events",
    `${uniqSql("client_id", p)} AS s_conv_total`,
  ];
}

/** Whether a row converts: it is a goal (events), or its session reached one (sessions). */
function convertingSql(leg: Leg, s: Scope): string {
  if (leg.side === "events") return goalSql(s.q.goals, s.p);
  return `(${sessionSemiJoin(false, `events WHERE ${eventsInRange(s, DAY_MS)} AND ${goalSql(s.q.goals, s.p)}`)})`;
}

const CONVERTING = /\b_conv\b/;

/**
 * Only the aggregates the outer query reads: ClickHouse does not prune them across a join, and each
 * sketch is costly (a goal's visits sketch and pageviews, unread by the goals report, cost ~40% of
 * its statement on the bench data). With a goal, the first aggregate kept that reads `_conv` defines it.
 */
export function legMetricsSql(leg: Leg, s: Scope, needed: ReadonlySet<string>): string[] {
  const kept = legAggregates(leg, s).filter((a) => needed.has(a.slice(a.lastIndexOf(" AS ") + 4)));
  if (s.q.goals.length === 0 || leg.table.endsWith("_rollup")) return kept;
  const first = kept.findIndex((a) => CONVERTING.test(a));
  if (first >= 0) kept[first] = kept[first]?.replace(CONVERTING, `(${convertingSql(leg, s)} AS _conv)`) ?? "";
  return kept;
}

const ratio = (a: string, b: string, digits: number) => `round(if(${b} = 0, 0, ${a} / ${b}), ${digits})`;

/** Each metric's figure in the outer select. */
export function metricSql(m: Metric, plan: Plan, breakdown: boolean): string {
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
    // Plausible's: a breakdown row's converting visitors over all visitors of the query.
    case "conversion_rate":
      return ratio(only("visitors"), breakdown ? "t_conv_total" : only("conv_total"), 4);
    case "group_conversion_rate":
      return ratio(only("visitors"), only("conv_total"), 4);
    case "percentage":
      return ratio(only("visitors"), "t_visitors", 4);
    case "exit_rate":
      return ratio("s_visits", "x_pageviews", 4);
    // Money to 3 decimals, as Plausible's Decimal64(3): enough for the currencies with 3 minor digits.
    case "total_revenue":
      return "round(e_revenue, 3)";
    case "average_revenue":
      return ratio("e_revenue", "e_revenue_events", 3);
    case "time_on_page":
      return ratio("e_engaged_ms / 1000", "e_engaged_visits", 1);
    case "scroll_depth":
      return "toUInt8(round(ifNotFinite(e_scroll_depth, 0)))";
  }
}

/** With a revenue metric: the other currencies over the whole answer, on every row (a window, like `_total`). */
export function otherCurrenciesSql(metrics: readonly Metric[]): string | null {
  return metrics.some((m) => REVENUE_METRICS.includes(m))
    ? "groupUniqArrayArray(e_other_currencies) OVER () AS _other_currencies"
    : null;
}
