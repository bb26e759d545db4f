/**
 * The part questions a mixed answer asks each store (core/query/merge.ts merges them), and the
 * split of a range at the warehouse's boundary. Pure.
 */

import { companionQuery } from "./companions.ts";
import type { ResolvedQuery } from "./normalise.ts";
import { type Filter, GOAL_DIMENSION, type Metric } from "./spec.ts";

/**
 * `main`: the query, ratios as their parts. `totals`: its visitors without dimensions
 * (percentage). `conv_totals` / `conv_rows`: visitors without the goal, in total and per row
 * (conversion rates). `exit_pages`: pageviews per page (exit rate). `engaged`: visits with
 * engagement events per row (the weights of time on page and scroll depth).
 */
export type PartRole = "main" | "totals" | "conv_totals" | "conv_rows" | "exit_pages" | "engaged";
export interface Part {
  role: PartRole;
  query: ResolvedQuery;
}

/** Rows a side may return for one part: merged before paging, so every row is needed. */
export const MAX_PART_ROWS = 100_000;

/** What each metric is merged from, in the main part. */
const MAIN: Record<Metric, readonly Metric[]> = {
  visitors: ["visitors"],
  visits: ["visits"],
  pageviews: ["pageviews"],
  events: ["events"],
  total_revenue: ["total_revenue"],
  bounce_rate: ["bounce_rate", "visits"],
  avg_session_duration: ["avg_session_duration", "visits"],
  views_per_visit: ["pageviews", "visits"],
  conversion_rate: ["visitors"],
  group_conversion_rate: ["visitors"],
  percentage: ["visitors"],
  exit_rate: ["visits"],
  average_revenue: ["average_revenue", "total_revenue"],
  time_on_page: ["time_on_page"],
  scroll_depth: ["scroll_depth"],
};

export const addMetric = (metrics: readonly Metric[], m: Metric): Metric[] =>
  metrics.includes(m) ? [...metrics] : [...metrics, m];

const withoutGoal = (filters: readonly Filter[]) => filters.filter((f) => f[1] !== GOAL_DIMENSION);

/** A part question: every row (no paging), ordered by nothing that matters to the merge. */
function part(q: ResolvedQuery, over: Partial<ResolvedQuery>): ResolvedQuery {
  const dimensions = over.dimensions ?? q.dimensions;
  return {
    ...q,
    compare: null,
    offset: 0,
    limit: MAX_PART_ROWS,
    include: { ...q.include, total_rows: false },
    ...over,
    order_by: dimensions.map((d): [string, "asc" | "desc"] => [d, "asc"]),
  };
}

/** The parts a query needs answered by each side. */
export function mixedParts(q: ResolvedQuery): Part[] {
  const has = (m: Metric) => q.metrics.includes(m);
  const metrics = q.metrics.flatMap((m) => MAIN[m]).reduce<Metric[]>(addMetric, []);
  const parts: Part[] = [{ role: "main", query: part(q, { metrics }) }];
  const noGoal = { filters: withoutGoal(q.filters), goals: [], metrics: ["visitors"] as Metric[] };
  if (has("percentage")) parts.push({ role: "totals", query: part(q, { metrics: ["visitors"], dimensions: [] }) });
  if (has("conversion_rate")) parts.push({ role: "conv_totals", query: part(q, { ...noGoal, dimensions: [] }) });
  if (has("group_conversion_rate")) parts.push({ role: "conv_rows", query: part(q, noGoal) });
  if (has("exit_rate")) parts.push({ role: "exit_pages", query: part(companionQuery(q, "exit_pages"), {}) });
  if (has("time_on_page") || has("scroll_depth"))
    parts.push({
      role: "engaged",
      query: part(q, {
        ...noGoal,
        metrics: ["visits"],
        filters: [...withoutGoal(q.filters), ["is", "event:name", ["engagement"]]],
      }),
    });
  return parts;
}

/** The query over [from, to). */
export function within(q: ResolvedQuery, from: number, to: number): ResolvedQuery {
  return { ...q, from, to, date_range: [new Date(from).toISOString(), new Date(to).toISOString()], preset: null };
}

/** The query split at the boundary: [from, boundary) for the warehouse, [boundary, to) for ClickHouse. */
export function splitAt(q: ResolvedQuery, boundary: number): [ResolvedQuery, ResolvedQuery] {
  return [within(q, q.from, boundary), within(q, boundary, q.to)];
}
