/**
 * validate → normalise → **plan** → SQL → run → shape. A pure function of the normalised query
 * and the clock: which store answers (the live actors, ClickHouse, the warehouse) and, for
 * ClickHouse, which tables — the rollups when the dimensions and filters allow it (day blocks for
 * the whole UTC days inside the range, hourly rows for the rest), the raw `events`/`sessions`
 * otherwise — and how precisely unique counts are estimated. Table-driven tests pin every rule (test/unit/query-plan.test.ts).
 */

import { DAY_MS, HOUR_MS } from "../time.ts";
import { type CompanionRole, companionQuery, companionRoles } from "./companions.ts";
import { utcLikeZone, wholeHourZone } from "./dates.ts";
import { goalRollupRefusal } from "./goal-rollup.ts";
import { ENGAGEMENT_METRICS, REVENUE_METRICS } from "./metric-rules.ts";
import type { ResolvedQuery } from "./normalise.ts";
import { dayBlocks } from "./rollup-spans.ts";
import { beyondHotRetention, routeCold } from "./warehouse-plan.ts";

export { beyondHotRetention, planRawQuestion, type RawQuestion } from "./warehouse-plan.ts";

import { type Filter, isTimeDimension, type Metric, type PlainDimension, scopeOf } from "./spec.ts";

/** mixed: the warehouse answers the range up to its boundary, ClickHouse the rest (core/query/merge.ts). */
export type Source = "live" | "clickhouse" | "warehouse" | "mixed";
/** event: any event:* dimension — every metric from events. session: any acquisition dimension — every metric from sessions. mixed: both, joined by dimension. */
export type Mode = "event" | "session" | "mixed";
export type Table = "events" | "events_rollup" | "sessions" | "sessions_rollup";

export interface Leg {
  side: "events" | "sessions";
  table: Table;
  /** The one non-time dimension a rollup row is keyed by (its `dim` column), when a rollup answers. */
  rollupDimension: PlainDimension | null;
  /** The events leg joins sessions to read acquisition dimensions. */
  joinSessions: boolean;
  /** Rollup legs: the whole UTC days [from, to) read as day blocks (core/query/rollup-spans.ts); the hours around them from the hourly rollup. */
  days: { from: number; to: number; longest: 1 | 64 } | null;
}

/** A question joined into the query's statement (core/query/companions.ts), with its own legs. */
export interface Companion {
  role: CompanionRole;
  legs: Leg[];
}

export interface Plan {
  source: Source;
  mode: Mode;
  legs: Leg[];
  /** Why this plan: shown in `meta.plan` so a slow query explains itself. */
  reason: string;
  /** Questions the metrics divide by (percentage, a breakdown's conversion rate, exit rate). */
  companions?: Companion[];
  /** Where the hot retention starts: how far back `visit:visitor_type` looks for earlier sessions. */
  historyFrom?: number;
  /** mixed: the warehouse answers [from, boundary), ClickHouse [boundary, to). */
  boundary?: number;
}

/**
 * Visitors are HyperLogLog estimates at the precisions GA4 uses: 14 (σ ≈ 0.8%) for headline
 * figures — totals and time series — and 12 (σ ≈ 1.6%, exact below ~100) once a dimension is
 * named, in a breakdown or a filter, where merging thousands of per-value sketches at 14 would
 * cost the overview its latency target. Visits counted on events (visits per page) are always at
 * 12, GA4's precision for sessions. Raw tables and rollups use the same precision for the same
 * query, so they answer the same numbers.
 */
export type SketchPrecision = 12 | 14;
export function sketchPrecision(q: Pick<ResolvedQuery, "dimensions" | "filters">): SketchPrecision {
  const named = q.dimensions.some((d) => !isTimeDimension(d)) || filterDimensions(q.filters).length > 0;
  return named ? 12 : 14;
}

/** Dimensions the rollups are keyed by (migrations/clickhouse/0006_day_rollups.sql lists the same). */
export const EVENT_ROLLUP_DIMENSIONS: readonly PlainDimension[] = [
  "event:page",
  "event:name",
  "event:hostname",
  "visit:device",
  "visit:browser",
  "visit:os",
  "visit:country",
];
export const SESSION_ROLLUP_DIMENSIONS: readonly PlainDimension[] = [
  "visit:entry_page",
  "visit:exit_page",
  "visit:source",
  "visit:referrer",
  "visit:channel",
  "visit:utm_source",
  "visit:utm_medium",
  "visit:utm_campaign",
  "visit:device",
  "visit:browser",
  "visit:os",
  "visit:country",
];
/** What the PropertyDO's minute windows can answer (core/session/window.ts): totals per minute, pageviews by page, visits by source, country and device. */
export const LIVE_METRICS: readonly Metric[] = ["visitors", "visits", "pageviews", "events"];
export const LIVE_DIMENSIONS: Readonly<Record<string, readonly Metric[]>> = {
  "event:page": ["pageviews"],
  "visit:source": ["visits"],
  "visit:country": ["visits"],
  "visit:device": ["visits"],
};
const LIVE_HORIZON_MS = 60 * 60_000;

/** Metrics only raw events hold: custom metrics (revenue, engagement) are in no rollup. */
export const RAW_EVENT_METRICS: readonly Metric[] = [...REVENUE_METRICS, ...ENGAGEMENT_METRICS];
const EVENT_SIDE: readonly Metric[] = [
  "visitors",
  "pageviews",
  "events",
  "conversion_rate",
  "group_conversion_rate",
  "percentage",
  ...RAW_EVENT_METRICS,
];
const SESSION_SIDE: readonly Metric[] = ["visits", "bounce_rate", "avg_session_duration", "exit_rate"];

/**
 * The whole UTC days inside [from, to) the day blocks can answer: only when no time bucket needs
 * finer rows — no time dimension, or days, weeks or months in a zone that is UTC throughout.
 */
function wholeDays(q: ResolvedQuery): Leg["days"] {
  const time = q.dimensions.find(isTimeDimension);
  if (time === "time:hour" || time === "time:minute") return null;
  if (time !== undefined && !utcLikeZone(q.timezone, q.from, q.to)) return null;
  const from = Math.ceil(q.from / DAY_MS) * DAY_MS;
  const to = Math.floor(q.to / DAY_MS) * DAY_MS;
  // Long blocks pay off for breakdowns, which merge a state per value per block over many values.
  // Time buckets group rows by their start, so only one-day blocks fall in one bucket each; and
  // totals merge a few dozen states, where one range of one-day rows is cheaper to select than a
  // chain of block conditions (measured on the bench data).
  const breakdown = time === undefined && q.dimensions.length > 0;
  return from < to ? { from, to, longest: breakdown ? 64 : 1 } : null;
}

/** Every (dimension) an atom of the filter tree names, goal filters aside. */
export function filterDimensions(filters: readonly Filter[]): string[] {
  const out: string[] = [];
  const walk = (f: Filter) => {
    if (f[0] === "and" || f[0] === "or") for (const g of f[1] as Filter[]) walk(g);
    else if (f[0] === "not") walk(f[1] as Filter);
    else if (f[1] !== "event:goal") out.push(f[1]);
  };
  for (const f of filters) walk(f);
  return out;
}

export function modeOf(q: ResolvedQuery): Mode {
  const scopes = q.dimensions.map(scopeOf);
  if (scopes.includes("event")) return "event";
  if (scopes.includes("session")) return "session";
  return "mixed";
}

function sidesOf(q: ResolvedQuery, mode: Mode): ("events" | "sessions")[] {
  if (mode === "event") return ["events"];
  // Counted over visits, except what only events hold: those come from events joined to their visits.
  if (mode === "session")
    return q.metrics.some((m) => RAW_EVENT_METRICS.includes(m)) ? ["sessions", "events"] : ["sessions"];
  const events = q.metrics.some((m) => EVENT_SIDE.includes(m)) || q.metrics.includes("views_per_visit");
  const sessions = q.metrics.some((m) => SESSION_SIDE.includes(m)) || q.metrics.includes("views_per_visit");
  return [...(events ? ["events" as const] : []), ...(sessions ? ["sessions" as const] : [])];
}

/** The one rollup dimension a leg can be answered with, or why not. */
type RollupChoice = { dimension: PlainDimension | null } | { why: string };

function rollupFor(q: ResolvedQuery, keyed: readonly PlainDimension[]): RollupChoice {
  const otherNamed = q.dimensions.some((d) => !isTimeDimension(d)) || filterDimensions(q.filters).length > 0;
  const goalWhy = q.goals.length > 0 ? goalRollupRefusal(q, keyed === EVENT_ROLLUP_DIMENSIONS, otherNamed) : null;
  if (goalWhy) return { why: goalWhy };
  const custom = keyed === EVENT_ROLLUP_DIMENSIONS ? q.metrics.find((m) => RAW_EVENT_METRICS.includes(m)) : undefined;
  if (custom) return { why: `${custom} needs raw events` };
  const time = q.dimensions.find(isTimeDimension);
  if (time === "time:minute") return { why: "minute buckets are finer than the hourly rollup" };
  if (q.from % HOUR_MS !== 0 || q.to % HOUR_MS !== 0) return { why: "the range does not start and end on whole hours" };
  if (!wholeHourZone(q.timezone, q.from, q.to)) return { why: `${q.timezone} is not a whole number of hours from UTC` };
  const named = new Set([...q.dimensions.filter((d) => !isTimeDimension(d)), ...filterDimensions(q.filters)]);
  if (named.size > 1) return { why: "more than one dimension is named" };
  const [only] = [...named] as PlainDimension[];
  if (only === undefined) return { dimension: null };
  // The rollup's visitor sketch cannot forget a visitor when a visit moves to another exit page.
  if (keyed === SESSION_ROLLUP_DIMENSIONS && only === "visit:exit_page" && q.metrics.includes("visitors"))
    return { why: "visitors by exit page change as visits go on" };
  return keyed.includes(only) ? { dimension: only } : { why: `${only} is not a rollup dimension` };
}

const isRecent = (q: ResolvedQuery, now: number) =>
  q.preset === "realtime" || (q.from >= now - LIVE_HORIZON_MS && q.to <= now + 60_000);
/** The windows are whole minutes: a range cutting one (other than the current) is ClickHouse's. */
const wholeMinutes = (q: ResolvedQuery, now: number) => q.from % 60_000 === 0 && (q.to % 60_000 === 0 || q.to > now);

/** A recent range the windows cannot answer for a metric they do not keep: said first in `meta.plan`. */
function notLive(q: ResolvedQuery, now: number): string {
  const metric = q.metrics.find((m) => !LIVE_METRICS.includes(m));
  return isRecent(q, now) && metric ? `not live: ${metric} is not kept in the actor's minute windows; ` : "";
}

function liveEligible(q: ResolvedQuery, now: number): boolean {
  const recent = isRecent(q, now);
  const plain = q.dimensions.filter((d) => !isTimeDimension(d));
  const time = q.dimensions.find(isTimeDimension);
  return (
    recent &&
    wholeMinutes(q, now) &&
    !q.include.bots &&
    q.filters.length === 0 &&
    ((plain.length === 0 &&
      (time === undefined || time === "time:minute") &&
      q.metrics.every((m) => LIVE_METRICS.includes(m))) ||
      (plain.length === 1 &&
        time === undefined &&
        q.metrics.every((m) => LIVE_DIMENSIONS[plain[0] as string]?.includes(m) ?? false)))
  );
}

/** The warehouse's plan for a query: the raw tables, by the same modes, sides and companions as ClickHouse's. */
export function planWarehouse(q: ResolvedQuery, reason: string): Plan {
  const mode = modeOf(q);
  const raw = (cq: ResolvedQuery, side: Leg["side"]): Leg => ({
    side,
    table: side,
    rollupDimension: null,
    joinSessions: side === "events" && cq.dimensions.some((d) => scopeOf(d) === "session"),
    days: null,
  });
  const companions = companionRoles(q).map(
    (role): Companion => ({
      role,
      legs: [raw(companionQuery(q, role), role === "totals" && mode === "session" ? "sessions" : "events")],
    }),
  );
  return {
    source: "warehouse",
    mode,
    legs: sidesOf(q, mode).map((side) => raw(q, side)),
    reason,
    ...(companions.length > 0 ? { companions } : {}),
    // The warehouse keeps all history: a visitor is returning after any earlier session.
    historyFrom: 0,
  };
}

/**
 * Which store answers a query, and how. `warehouseThrough`: the warehouse's frontier, before which
 * every hour is loaded (the engine reads it only for a range reaching beyond the hot retention).
 */
export function planQuery(
  q: ResolvedQuery,
  now: number,
  hotRetentionDays: number,
  warehouseThrough: number | null = null,
): Plan {
  const cold = beyondHotRetention(q.from, now, hotRetentionDays);
  if (!cold) return planClickHouse(q, now, hotRetentionDays);
  const route = routeCold(cold, q.from, q.to, warehouseThrough);
  switch (route.store) {
    case "warehouse":
      return planWarehouse(q, route.reason);
    case "clickhouse": {
      const plan = planClickHouse(q, now, hotRetentionDays);
      return { ...plan, reason: `${route.reason}; ${plan.reason}` };
    }
    case "mixed":
      return { source: "mixed", mode: modeOf(q), legs: [], reason: route.reason, boundary: route.boundary };
  }
}

/** The plan inside the hot retention: the live actors or ClickHouse (rollups where they answer). */
export function planClickHouse(q: ResolvedQuery, now: number, hotRetentionDays: number): Plan {
  const mode = modeOf(q);
  if (liveEligible(q, now))
    return { source: "live", mode, legs: [], reason: "the last hour, answered by the property's actor" };
  const reasons: string[] = [];
  const legs = sidesOf(q, mode).map((side) => legFor(q, side, reasons));
  const companions = companionRoles(q).map((role): Companion => {
    const cq = companionQuery(q, role);
    const side = role === "totals" && mode === "session" ? "sessions" : "events";
    const notes: string[] = [];
    const leg = legFor(cq, side, notes);
    reasons.push(`${role}: ${notes.join("")}`);
    return { role, legs: [leg] };
  });
  return {
    source: "clickhouse",
    mode,
    legs,
    reason: `${notLive(q, now)}${reasons.join("; ")}`,
    ...(companions.length > 0 ? { companions } : {}),
    historyFrom: now - hotRetentionDays * DAY_MS,
  };
}

/** One side's leg: a rollup when the query's shape allows it, else the raw table; why goes to `reasons`. */
function legFor(q: ResolvedQuery, side: Leg["side"], reasons: string[]): Leg {
  const joinSessions = side === "events" && q.dimensions.some((d) => scopeOf(d) === "session");
  const rollup: RollupChoice = joinSessions
    ? { why: "acquisition dimensions on events need a join" }
    : rollupFor(q, side === "events" ? EVENT_ROLLUP_DIMENSIONS : SESSION_ROLLUP_DIMENSIONS);
  if ("why" in rollup) {
    reasons.push(`${side}: raw (${rollup.why})`);
    return { side, table: side, rollupDimension: null, joinSessions, days: null };
  }
  const days = wholeDays(q);
  const hours = (q.to - q.from - (days ? days.to - days.from : 0)) / HOUR_MS;
  const blocks = days ? dayBlocks(days.from, days.to, days.longest).length : 0;
  const parts = [
    ...(days ? [`${(days.to - days.from) / DAY_MS} days in ${blocks} day blocks`] : []),
    ...(hours ? [`${hours} hours hourly`] : []),
  ];
  reasons.push(`${side}: rollup (${parts.join(" + ")})`);
  return { side, table: `${side}_rollup`, rollupDimension: rollup.dimension, joinSessions, days };
}
