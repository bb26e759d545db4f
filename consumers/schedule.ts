/**
 * The hourly Cron Triggers' schedules and budgets (consumers/scheduled.ts runs them). Pure, so the
 * sizing model (bench/sizing-model.ts, Node) takes the same numbers without the Worker's types.
 */

/** The archive's schedule: compaction, then the privacy passes and ClickHouse's TTLs. */
export const ARCHIVE_CRON = "10 * * * *";
/** The warehouse's schedule, half an hour later: its own invocation, so its own CPU and wall time. */
export const WAREHOUSE_CRON = "40 * * * *";

/**
 * The budgets themselves are configuration (core/config.ts COMPACTION_BUDGET_SECONDS, 240 s, and
 * WAREHOUSE_BUDGET_SECONDS, 600 s; the dev stack sets 20 s each). Compaction is mostly CPU (decode +
 * encode) in an invocation of 300 s of CPU (wrangler.toml `[limits] cpu_ms = 300000`): no step
 * starts after its budget, and one step (≤ 25,000 rows, ~1–2 s in bench/archive.ts) and the privacy
 * passes fit in the rest. The warehouse's loading is mostly I/O, which CPU time does not count, so it
 * may take 10 of the 15 minutes a Cron invocation may run; an hour a run cannot reach in time is
 * loaded by the next (or by WarehouseDO, when its events arrived late).
 *
 * The archive's privacy passes (retention, then raw user agents): no day or partition starts later
 * than compaction's budget plus this after the run's start, so they get what compaction left of
 * its budget and this much more (both CPU: within 280 s of the invocation's 300 s).
 */
export const PRIVACY_BUDGET_MS = 40_000;
