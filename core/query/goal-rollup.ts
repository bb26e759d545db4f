/**
 * Goal conversions from the rollups (migration 0011): a goal question with no other dimension is a
 * slice of `events_rollup` — the goals' rows (`goal:pageview` pageviews by path, `goal:event`
 * events by name) for the converting figures, the totals' row (dim = '') for everyone — instead of
 * a scan of `events` per goal. Both hold visitor states at precision 14, the precision such a
 * question is answered at (core/query/plan.ts sketchPrecision), so merged they give exactly what
 * the raw goal statement gives. Pure: the planner's rule and the leg's SQL.
 */
import { goalPathRegex } from "../property/goals.ts";
import type { GoalRef, ResolvedQuery } from "./normalise.ts";
import type { Params } from "./sql-scope.ts";

/** The rollup dimensions of goal rows; migration 0011's view writes the same names. */
export const GOAL_ROLLUP_DIMENSIONS = { page: "goal:pageview", event: "goal:event" } as const;

/**
 * Why a goal question needs raw events, or null when the goal rows answer it: goals alone (no other
 * dimension named), on the events side. Its events are summed over the goals' rows, so a page goal
 * beside an event goal named `pageview` (one event in both) is raw's to count once.
 */
export function goalRollupRefusal(q: Pick<ResolvedQuery, "goals">, eventSide: boolean, otherNamed: boolean) {
  if (!eventSide) return "a goal on visits needs raw events";
  if (otherNamed) return "a goal with another dimension needs raw events";
  const page = q.goals.some((g) => g.kind === "page");
  if (page && q.goals.some((g) => g.kind === "event" && g.event_name === "pageview"))
    return "a page goal beside a pageview event goal needs raw events";
  return null;
}

/** One goal's rows: a page goal's paths (compared, or matched when it has wildcards), an event goal's name. */
function goalRowSql(g: GoalRef, p: Params): string {
  if (g.kind === "event")
    return `(dim = ${p.add("String", GOAL_ROLLUP_DIMENSIONS.event)} AND value = ${p.add("String", g.event_name ?? "")})`;
  const pattern = g.page_path ?? "";
  const path = pattern.includes("*")
    ? `match(value, ${p.add("String", goalPathRegex(pattern))})`
    : `value = ${p.add("String", pattern)}`;
  return `(dim = ${p.add("String", GOAL_ROLLUP_DIMENSIONS.page)} AND ${path})`;
}

/** The rows a goal leg reads: the totals' and the goals'. Aggregates tell them apart by `dim`. */
export function goalRowsSql(goals: readonly GoalRef[], p: Params): string {
  return `(dim = '' OR ${goals.map((g) => goalRowSql(g, p)).join(" OR ")})`;
}

/**
 * A goal leg's aggregates: the goals' rows convert, the totals' row is everyone (conversion rates
 * divide by it). Visitors at precision 14: with no other dimension named, the query's own.
 */
export function goalRollupAggregates(): string[] {
  const converting = "dim != ''";
  return [
    `uniqCombinedMergeIf(14)(visitors_p14, ${converting}) AS e_visitors`,
    `uniqCombinedMergeIf(12)(visits_p12, ${converting}) AS e_visits`,
    `sumIf(pageviews, ${converting}) AS e_pageviews`,
    `sumIf(events, ${converting}) AS e_events`,
    "uniqCombinedMergeIf(14)(visitors_p14, dim = '') AS e_conv_total",
  ];
}
