/**
 * Which metrics a query may ask for, given its dimensions and filters: Plausible's Stats API v2
 * validity rules where our metrics share its names, each refused as a 400 that names the field and
 * why. Pure; normalise.ts calls it before anything is planned.
 */
import { AppError } from "../errors.ts";
import { type Filter, GOAL_DIMENSION, type Metric, type QuerySpec, scopeOf } from "./spec.ts";

export const bad = (message: string) => new AppError("invalid_query", 400, message);

/** Metrics summed from `custom_metrics['revenue']` of events, in one currency. */
export const REVENUE_METRICS: readonly Metric[] = ["total_revenue", "average_revenue"];
/** Metrics read from the tracker's `engagement` events. */
export const ENGAGEMENT_METRICS: readonly Metric[] = ["time_on_page", "scroll_depth"];
/** Properties of a whole visit, which an event dimension cannot split. */
const SESSION_METRICS: readonly Metric[] = ["bounce_rate", "avg_session_duration"];

/** Every dimension an atom of the filter tree names (goal filters included). */
export function namedInFilters(filters: readonly Filter[]): string[] {
  const out: string[] = [];
  const walk = (f: Filter) => {
    if (f[0] === "and" || f[0] === "or") for (const g of f[1] as Filter[]) walk(g);
    else if (f[0] === "not") walk(f[1] as Filter);
    else out.push(f[1]);
  };
  for (const f of filters) walk(f);
  return out;
}

const isEventFilter = (d: string) => d === GOAL_DIMENSION || d.startsWith("event:");

/** Throws a 400 naming the first metric the query's dimensions and filters cannot answer. */
export function checkMetrics(spec: QuerySpec, hasGoal: boolean): void {
  const eventDims = spec.dimensions.filter((d) => scopeOf(d) === "event");
  const filtered = namedInFilters(spec.filters);
  for (const m of spec.metrics) {
    if (SESSION_METRICS.includes(m) && eventDims.length > 0)
      throw bad(
        `metrics: ${m} is a property of a whole visit and cannot be broken down by ${eventDims[0]}; use visit:entry_page or visit:exit_page instead`,
      );
    if ((m === "conversion_rate" || m === "group_conversion_rate") && !hasGoal)
      throw bad(`metrics: ${m} needs a goal filter, e.g. ["is","event:goal",["Signup"]]`);
    if (m === "percentage" && spec.dimensions.length === 0)
      throw bad("metrics: percentage is each row's share of all visitors and needs at least one dimension");
    if (ENGAGEMENT_METRICS.includes(m) && !spec.dimensions.includes("event:page") && !filtered.includes("event:page"))
      throw bad(
        `metrics: ${m} is measured per page and needs an event:page dimension or filter, e.g. dimensions ["event:page"]`,
      );
    if (m === "exit_rate") {
      if (spec.dimensions.length !== 1 || spec.dimensions[0] !== "visit:exit_page")
        throw bad(
          'metrics: exit_rate needs exactly one dimension, "visit:exit_page" (the share of its page\'s views that ended a visit)',
        );
      const event = filtered.find(isEventFilter);
      if (event)
        throw bad(
          `metrics: exit_rate cannot be asked with a filter on ${event}: it compares visits with all views of their exit page`,
        );
    }
  }
}
