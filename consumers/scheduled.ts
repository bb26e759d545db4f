/**
 * The Cron Triggers (wrangler.toml `[triggers] crons`), two hourly runs, each its own invocation
 * with its own CPU allowance. At :10 (ARCHIVE_CRON) the archive: compacts every closed hour with a
 * pending marker (core/archive/compaction.ts), within a time budget; what is left waits for the
 * next run, which resumes safely. Uncompacted files are readable as they are. Then privacy by
 * default (consumers/privacy-retention.ts): the archive's days past the retention period and its raw
 * user agents past their days, and ClickHouse's TTLs at the configured days. At :40
 * (WAREHOUSE_CRON), when a warehouse is configured, its jobs (consumers/warehouse-jobs.ts): every
 * closed hour not loaded yet, their quality, the aggregates of fully loaded days, hot retention, the
 * privacy jobs — within a budget of their own, resumed by the next run the same way.
 */
import { compactPending } from "../core/archive/compaction.ts";
import { errorDetail } from "../core/warehouse/jobs.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { log, newRequestId, withRequestId } from "../platform/log.ts";
import { countMetric, flushOpsMetrics, observeMetric } from "../platform/ops-metrics.ts";
import { applyClickHouseTtls, runArchiveRetention, runRawUserAgentPass } from "./privacy-retention.ts";
import { runWarehouseSchedule } from "./warehouse-jobs.ts";

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

export function handleScheduled(controller: ScheduledController, env: Env, _ctx: ExecutionContext): Promise<void> {
  return withRequestId(newRequestId(), () => scheduledRun(controller, env));
}

/**
 * Runs one job, timed and counted (`job_runs`, `job_ms`: the Operations page's job health): a
 * failure is logged and the run goes on to the next job; the next run resumes where it stopped.
 */
async function job<T>(name: string, work: () => Promise<T>): Promise<T | undefined> {
  const started = Date.now();
  try {
    const report = await work();
    countMetric("job_runs", { job: name, result: "ok" });
    return report;
  } catch (error) {
    countMetric("job_runs", { job: name, result: "failed" });
    log.error(`${name} failed`, { job: name, error: errorDetail(error) });
    return undefined;
  } finally {
    observeMetric("job_ms", Date.now() - started, { job: name });
  }
}

/**
 * Each schedule runs its own jobs; any other cron string (wrangler dev's `/__scheduled` without
 * `?cron`, a manual run) runs both, the archive first, as one run did before they were split.
 */
async function scheduledRun(controller: ScheduledController, env: Env): Promise<void> {
  const cron = controller.cron;
  if (cron !== WAREHOUSE_CRON) await runArchive(cron, env);
  if (cron !== ARCHIVE_CRON) await runWarehouse(controller, env);
  // No request passes through a cron invocation to write its metrics afterwards.
  await flushOpsMetrics(env, Date.now(), { force: true }).catch(() => undefined);
}

/** Compaction, then the privacy passes, within their budgets from the run's start. */
async function runArchive(cron: string, env: Env): Promise<void> {
  const started = Date.now();
  const compaction = await job("archive_compaction", async () =>
    compactPending(await archiveStore(env), zstdCodec, {
      deadline: started + COMPACTION_BUDGET_MS,
      log: (line) => log.warn(line),
    }),
  );
  if (compaction) log.metric("archive_compaction", { cron, ms: Date.now() - started, ...compaction });
  await runPrivacy(cron, env, started);
}

/** The warehouse's schedule; the ledger keeps what was done, and the next run resumes from its frontier. */
async function runWarehouse(controller: ScheduledController, env: Env): Promise<void> {
  const cron = controller.cron;
  const started = Date.now();
  const warehouse = await job("warehouse_jobs", () =>
    runWarehouseSchedule(env, { now: controller.scheduledTime, deadline: started + WAREHOUSE_BUDGET_MS }),
  );
  if (warehouse) log.metric("warehouse_jobs", { cron, ms: Date.now() - started, ...warehouse });
}

/** The archive's retention and raw-user-agent passes, ClickHouse's TTLs; a failure is logged, the next run retries. */
async function runPrivacy(cron: string, env: Env, started: number): Promise<void> {
  const deadline = started + COMPACTION_BUDGET_MS + PRIVACY_BUDGET_MS;
  const retention = await job("archive_retention", () => runArchiveRetention(env, deadline));
  if (retention) log.metric("archive_retention", { cron, ...retention });
  const rawUserAgents = await job("archive_raw_user_agents", () => runRawUserAgentPass(env, deadline));
  if (rawUserAgents) log.metric("archive_raw_user_agents", { cron, ...rawUserAgents });
  const statements = await job("clickhouse_ttls", () => applyClickHouseTtls(env));
  if (statements && statements.length > 0) log.metric("clickhouse_ttls", { statements });
}
