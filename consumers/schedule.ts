/**
 * The hourly Cron Triggers' schedules and budgets (consumers/scheduled.ts runs them). Pure, so the
 * sizing model (bench/sizing-model.ts, Node) takes the same numbers without the Worker's types.
 */

/** The archive's schedule: compaction, then the privacy passes and ClickHouse's TTLs. */
export const ARCHIVE_CRON = "10 * * * *";
/** The warehouse's schedule, half an hour later: its own invocation, so its own CPU and wall time. */
export const WAREHOUSE_CRON = "40 * * * *";

/**
 * Wall-clock budget of compaction. Each invocation has 300 s of CPU (wrangler.toml `[limits]
 * cpu_ms = 300000`) and compaction is mostly CPU (decode + encode), so no step starts after 240 s;
 * one step (≤ 25,000 rows, ~1–2 s in bench/archive.ts) and the privacy passes fit in the rest.
 */
export const COMPACTION_BUDGET_MS = 240_000;
/**
 * The archive's privacy passes (retention, then raw user agents): no day or partition starts later
 * than compaction's budget plus this after the run's start, so they get what compaction left of
 * its budget and this much more.
 * Like compaction it is CPU (decode + encode): both stay within 280 s of the invocation's 300 s.
 */
export const PRIVACY_BUDGET_MS = 40_000;
/**
 * The warehouse jobs' budget: no hour or day starts after it. Loading is mostly I/O (archive reads,
 * warehouse round trips), which CPU time does not count, so it gets 10 minutes of the 15 a Cron
 * invocation may run; an hour the schedule cannot reach in time is loaded by the next run (or by
 * WarehouseDO, when its events arrived late).
 */
export const WAREHOUSE_BUDGET_MS = 600_000;
