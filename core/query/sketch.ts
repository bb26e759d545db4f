/**
 * The one sketch every unique count uses (issue #15), in the rollups and over the raw tables alike,
 * so both answer the same number for the same question.
 *
 * `uniqCombined64(19)` keeps the 64-bit hashes themselves — exact — until a set would outgrow
 * 2^14 hash cells (measured on chDB 26.7: exact at 16,000 distinct values, off at 20,000), then
 * turns into HyperLogLog with 2^19 registers (σ = 1.04/√2^19 ≈ 0.14%; measured within 0.2% at
 * 10^5 and 10^6). The 64-bit hash keeps it exact past the point where 32-bit hashes collide
 * (~1% odds of one collision among 10,000 ids) and accurate at the billions a year of a large
 * site. The price: a set past 16K distinct values is a ~390 KB state, and raw-table GROUP BYs
 * insert into hash sets instead of registers (about 2× the CPU of the old precision 12).
 */
const FN = "uniqCombined64";
const PARAMS = "(19)";

/** The state type of a rollup column (migrations/clickhouse/0008_exact_uniques.sql writes the same). */
export const SKETCH_TYPE = `AggregateFunction(${FN}${PARAMS}, String)`;

/** Distinct values of a column over raw rows. */
export const uniqSql = (column: string): string => `${FN}${PARAMS}(${column})`;
/** Distinct values of a column over the rows where `condition` holds. */
export const uniqIfSql = (column: string, condition: string): string => `${FN}If${PARAMS}(${column}, ${condition})`;
/** The count a rollup column's merged states give. */
export const uniqMergeSql = (state: string): string => `${FN}Merge${PARAMS}(${state})`;
/** Merged states kept as a state (rebuilding the longer day blocks). */
export const uniqMergeStateSql = (state: string): string => `${FN}MergeState${PARAMS}(${state})`;
