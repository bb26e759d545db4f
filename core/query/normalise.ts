import { DEFAULT_CURRENCY } from "../property/property.ts";
import { DAY_MS, isTimeZone } from "../time.ts";
import { addDays, bucketCount, compareRange, parseDate, presetRange, startOfDay } from "./dates.ts";
import { bad, checkMetrics, REVENUE_METRICS } from "./metric-rules.ts";
import { type Dimension, type Filter, GOAL_DIMENSION, isTimeDimension, type Metric, type QuerySpec } from "./spec.ts";

/** The goal shape the query engine needs (core/property/goals.ts owns the full contract). */
export interface GoalRef {
  name: string;
  kind: "page" | "event";
  page_path?: string | undefined;
  event_name?: string | undefined;
}

export type NormalisedQuery = {
  property_id: string;
  metrics: Metric[];
  dimensions: Dimension[];
  filters: Filter[];
  /** Half-open [from, to) as ISO 8601 instants (UTC). */
  date_range: [string, string];
  timezone: string;
  order_by: [string, "asc" | "desc"][];
  limit: number;
  offset: number;
  compare: "previous_period" | "year_over_year" | null;
  /** `currency`: the one revenue is summed in, set only when a revenue metric is asked for. */
  include: { bots: boolean; total_rows: boolean; currency?: string };
};

export interface ResolvedQuery extends NormalisedQuery {
  from: number;
  to: number;
  /** The preset it came from, if any ("realtime" routes to the live actors). */
  preset: string | null;
  /** Goals named by an `event:goal` filter (a top-level `is`), resolved to their definitions. */
  goals: GoalRef[];
  /** The property's currency: revenue events that name no currency are in it. */
  propertyCurrency: string;
}

export interface NormaliseContext {
  propertyTimezone: string;
  createdAt: number;
  now: number;
  goals: readonly GoalRef[];
  /** The property's revenue currency (core/property/property.ts propertyCurrency); default USD. */
  propertyCurrency?: string;
}

/** Series longer than this must use a coarser bucket (they are gap-filled, so they cost memory). */
export const MAX_TIME_BUCKETS = 5_000;

/** The longest range a question may span (the dashboard's All time asks ten years), and how far ahead it may end. */
export const MAX_RANGE_DAYS = 3660;
export const MAX_AHEAD_DAYS = 366;

/** A range is bounded: ending in 9999 would plan ~45,000 rollup blocks, a statement no engine takes. */
function boundRange([from, to]: [number, number], now: number): [number, number] {
  if (to > now + MAX_AHEAD_DAYS * DAY_MS)
    throw bad(`date_range (a report's end): must end within ${MAX_AHEAD_DAYS} days from now; no data lies after today`);
  if (to - from > MAX_RANGE_DAYS * DAY_MS)
    throw bad(`date_range (a report's start and end): spans at most ${MAX_RANGE_DAYS} days`);
  return [from, to];
}

function resolveRange(spec: QuerySpec, tz: string, ctx: NormaliseContext): [number, number] {
  const range = spec.date_range;
  if (typeof range === "string") return presetRange(range, tz, ctx.now, ctx.createdAt);
  const [a, b] = range;
  if (a.length === 10) {
    const from = parseDate(a);
    const to = parseDate(b);
    if (!from) throw bad(`date_range[0]: ${a} is not a calendar date`);
    if (!to) throw bad(`date_range[1]: ${b} is not a calendar date`);
    if (b < a) throw bad("date_range: the end date is before the start date");
    // Dates are inclusive: the range ends where the day after the end date starts.
    return [startOfDay(from, tz), startOfDay(addDays(to, 1), tz)];
  }
  const from = Date.parse(a);
  const to = Date.parse(b);
  if (Number.isNaN(from)) throw bad(`date_range[0]: ${a} is not a valid time`);
  if (Number.isNaN(to)) throw bad(`date_range[1]: ${b} is not a valid time`);
  if (to <= from) throw bad("date_range: the end must be after the start");
  return [from, to];
}

/** Goal filters must be top-level `is` filters naming goals the property has. */
function resolveGoals(filters: readonly Filter[], goals: readonly GoalRef[]): GoalRef[] {
  const nested = (f: Filter): boolean =>
    f[0] === "and" || f[0] === "or"
      ? (f[1] as Filter[]).some((g) => g[1] === GOAL_DIMENSION || nested(g))
      : f[0] === "not"
        ? (f[1] as Filter)[1] === GOAL_DIMENSION || nested(f[1] as Filter)
        : false;
  if (filters.some(nested)) throw bad("filters: event:goal may only be used as a top-level filter");
  const named = filters.filter((f) => f[1] === GOAL_DIMENSION).flatMap((f) => f[2] as string[]);
  const found = named.map((n) => {
    const goal = goals.find((g) => g.name.toLowerCase() === n.toLowerCase());
    if (!goal)
      throw bad(
        `filters: goal ${JSON.stringify(n)} does not exist; this property's goals: ${goals.map((g) => g.name).join(", ") || "(none)"}`,
      );
    return goal;
  });
  return found;
}

export function normaliseQuery(spec: QuerySpec, ctx: NormaliseContext): ResolvedQuery {
  const timezone = spec.timezone ?? ctx.propertyTimezone;
  if (!isTimeZone(timezone)) throw bad(`timezone: ${timezone} is not an IANA time zone such as Europe/Berlin`);
  const [from, to] = boundRange(resolveRange(spec, timezone, ctx), ctx.now);
  const time = spec.dimensions.find(isTimeDimension);
  if (time && bucketCount(from, to, time) > MAX_TIME_BUCKETS)
    throw bad(
      `dimensions: ${time} over this date_range gives more than ${MAX_TIME_BUCKETS} buckets; use a coarser time dimension`,
    );
  const goals = resolveGoals(spec.filters, ctx.goals);
  checkMetrics(spec, goals.length > 0);
  const propertyCurrency = ctx.propertyCurrency ?? DEFAULT_CURRENCY;
  const revenue = spec.metrics.some((m) => REVENUE_METRICS.includes(m));
  const { currency, ...flags } = spec.include;
  const tieBreak = spec.dimensions.map((d): [string, "asc" | "desc"] => [d, "asc"]);
  const order: [string, "asc" | "desc"][] =
    spec.order_by ?? (time ? [[time, "asc"]] : [[spec.metrics[0] ?? "visitors", "desc"]]);
  const order_by = [...order, ...tieBreak.filter(([d]) => !order.some(([k]) => k === d))];
  return {
    property_id: spec.property_id,
    metrics: spec.metrics,
    dimensions: spec.dimensions as Dimension[],
    filters: spec.filters,
    date_range: [new Date(from).toISOString(), new Date(to).toISOString()],
    timezone,
    order_by,
    limit: spec.limit,
    offset: spec.offset,
    compare: spec.compare,
    include: revenue ? { ...flags, currency: currency ?? propertyCurrency } : flags,
    from,
    to,
    preset: typeof spec.date_range === "string" ? spec.date_range : null,
    goals,
    propertyCurrency,
  };
}

/** The comparison query: the same question over the comparison period. */
export function comparisonOf(q: ResolvedQuery): ResolvedQuery | undefined {
  if (!q.compare) return undefined;
  const [from, to] = compareRange([q.from, q.to], q.compare, q.timezone);
  return {
    ...q,
    from,
    to,
    date_range: [new Date(from).toISOString(), new Date(to).toISOString()],
    preset: null,
    compare: null,
  };
}

/** What the cache key and the response's `query` carry: the normalised query without internals. */
export function publicQuery(q: ResolvedQuery): NormalisedQuery {
  const { from: _f, to: _t, preset: _p, goals: _g, propertyCurrency: _c, ...rest } = q;
  return rest;
}
