/**
 * A range across the warehouse's boundary (a `mixed` plan, core/query/plan.ts) is answered by both
 * stores — the warehouse before the boundary, ClickHouse after — and merged here. Pure.
 *
 * Each side answers the same part questions: the query with its ratios replaced by what they are
 * computed from (bounce rate and visit duration travel with their visits, views per visit as
 * pageviews and visits, average revenue with its total), and the denominators of the rest
 * (`totals`, `conv_totals`, `conv_rows`, `exit_pages`, `engaged`). Rows are matched by their
 * dimension values (time buckets included: a bucket across the boundary gets both halves); counts
 * are summed and every ratio is recomputed from the summed parts.
 *
 * Visitors (and visits on events) are summed too: a visitor seen on both sides of the boundary
 * counts twice. The ClickHouse side is only what the load job has not reached yet (an hour or
 * two), so the overcount is the visitors of those hours who also came earlier in the range.
 * Time on page and scroll depth are averaged weighted by each side's engaged visits.
 */
import type { ResolvedQuery } from "./normalise.ts";
import { type ResultRow, type Shaped, shapeRows } from "./shape.ts";
import type { Metric } from "./spec.ts";
import type { Part } from "./warehouse-parts.ts";

export { mixedParts, type Part, type PartRole, splitAt } from "./warehouse-parts.ts";

/** One side's answer to each part, in the order of `mixedParts`. */
export type SideAnswers = Shaped[];

const keyOf = (r: ResultRow) => JSON.stringify(r.dimensions);
const round = (x: number, digits: number) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
const share = (a: number, b: number, digits: number) => round(b === 0 ? 0 : a / b, digits);

/** One part's rows of both sides by key, each side's metrics by name. */
type Both = { dimensions: string[]; sides: Record<string, number>[] };
function byKey(part: Part, answers: SideAnswers[], i: number): Map<string, Both> {
  const out = new Map<string, Both>();
  for (const [side, answer] of answers.entries())
    for (const row of answer[i]?.results ?? []) {
      const entry = out.get(keyOf(row)) ?? { dimensions: row.dimensions, sides: answers.map(() => ({})) };
      entry.sides[side] = Object.fromEntries(part.query.metrics.map((m, k) => [m, row.metrics[k] ?? 0]));
      out.set(keyOf(row), entry);
    }
  return out;
}

const sum = (sides: Record<string, number>[], m: string) => sides.reduce((n, s) => n + (s[m] ?? 0), 0);
/** A ratio's sides weighted: Σ value × weight ÷ Σ weight. */
function weighted(values: Record<string, number>[], m: string, weights: number[]): number {
  const total = weights.reduce((a, b) => a + b, 0);
  return total === 0 ? 0 : values.reduce((n, s, i) => n + (s[m] ?? 0) * (weights[i] ?? 0), 0) / total;
}

/** Merges both sides' answers (warehouse first) into the query's answer, ordered and paged by shapeRows. */
export function mergeAnswers(q: ResolvedQuery, parts: readonly Part[], answers: SideAnswers[]): Shaped {
  const index = (role: Part["role"]) => parts.findIndex((p) => p.role === role);
  const rowsOf = (role: Part["role"]) => {
    const i = index(role);
    const part = parts[i];
    return part ? byKey(part, answers, i) : new Map<string, Both>();
  };
  const main = rowsOf("main");
  const single = (role: Part["role"]) => [...rowsOf(role).values()][0]?.sides ?? [];
  const totals = single("totals");
  const convTotals = single("conv_totals");
  const convRows = rowsOf("conv_rows");
  const exitPages = rowsOf("exit_pages");
  const engaged = rowsOf("engaged");
  const raw = [...main.entries()].map(([key, { dimensions, sides }]) => {
    const row: Record<string, unknown> = Object.fromEntries(dimensions.map((d, i) => [`d${i}`, d]));
    const visits = sides.map((s) => s.visits ?? 0);
    const engagedVisits = (engaged.get(key)?.sides ?? []).map((s) => s.visits ?? 0);
    const revenueEvents = sides.map((s) =>
      s.average_revenue ? Math.round((s.total_revenue ?? 0) / s.average_revenue) : 0,
    );
    const value: Record<Metric, () => number> = {
      visitors: () => sum(sides, "visitors"),
      visits: () => sum(sides, "visits"),
      pageviews: () => sum(sides, "pageviews"),
      events: () => sum(sides, "events"),
      total_revenue: () => round(sum(sides, "total_revenue"), 3),
      bounce_rate: () => round(weighted(sides, "bounce_rate", visits), 4),
      avg_session_duration: () => round(weighted(sides, "avg_session_duration", visits), 1),
      views_per_visit: () => share(sum(sides, "pageviews"), sum(sides, "visits"), 2),
      percentage: () => share(sum(sides, "visitors"), sum(totals, "visitors"), 4),
      conversion_rate: () => share(sum(sides, "visitors"), sum(convTotals, "visitors"), 4),
      group_conversion_rate: () => share(sum(sides, "visitors"), sum(convRows.get(key)?.sides ?? [], "visitors"), 4),
      exit_rate: () =>
        share(
          sum(sides, "visits"),
          sum(exitPages.get(keyOf({ dimensions, metrics: [] }))?.sides ?? [], "pageviews"),
          4,
        ),
      average_revenue: () =>
        share(
          sides.reduce((n, s, i) => n + ((revenueEvents[i] ?? 0) > 0 ? (s.total_revenue ?? 0) : 0), 0),
          revenueEvents.reduce((a, b) => a + b, 0),
          3,
        ),
      time_on_page: () => round(weighted(sides, "time_on_page", engagedVisits), 1),
      scroll_depth: () => Math.round(weighted(sides, "scroll_depth", engagedVisits)),
    };
    for (const m of q.metrics) row[m] = value[m]();
    return row;
  });
  const currencies = [...new Set(answers.flatMap((a) => a.flatMap((s) => s.other_currencies ?? [])))];
  const rows = q.include.currency ? raw.map((r) => ({ ...r, _other_currencies: currencies })) : raw;
  return shapeRows(q, rows, false);
}
