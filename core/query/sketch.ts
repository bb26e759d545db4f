/**
 * The sketches unique counts use, in the rollups and over the raw tables alike, so both answer
 * the same number for the same question (core/query/plan.ts sketchPrecision picks the precision).
 *
 * `uniqCombined(p)` is exact for small sets and HyperLogLog above: precision 14 (σ ≈ 0.8%) for
 * headline figures, 12 (σ ≈ 1.6%, exact below ~100) for breakdowns and filtered figures. Exact
 * counts up to 10,000 per row (issue #15) were measured with uniqCombined64(19) and cost the
 * overview its latency target (p95 658 ms against 150 ms on the 10M-event bench): a breakdown row
 * of thousands of visitors is then a set of their hashes, not 3 KB of registers. See the README.
 */
import type { SketchPrecision } from "./plan.ts";

/** The rollup columns holding unique-count states: `visitors_p14`, `visitors_p12`, `visits_p12`. */
export type SketchColumn = "visitors" | "visits";

/** Distinct values of a column over raw rows. */
export const uniqSql = (column: string, p: SketchPrecision): string => `uniqCombined(${p})(${column})`;
/** Distinct values of a column over the rows where `condition` holds. */
export const uniqIfSql = (column: string, condition: string, p: SketchPrecision): string =>
  `uniqCombinedIf(${p})(${column}, ${condition})`;
/** The count a rollup column's merged states give (visits are kept at precision 12 only). */
export const uniqMergeSql = (state: SketchColumn, p: SketchPrecision): string =>
  `uniqCombinedMerge(${p})(${state}_p${p})`;
