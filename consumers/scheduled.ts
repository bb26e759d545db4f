/**
 * The Cron Triggers (wrangler.toml `[triggers] crons`), two hourly runs, each its own invocation
 * with its own CPU allowance (consumers/schedule.ts has the schedules and the budgets). At :10 (ARCHIVE_CRON) the archive: compacts every closed hour with a
 * pending marker (core/archive/compaction.ts), within a time budget; what is left waits for the
 * next run, which resumes safely. Uncompacted files are readable as they are. Then privacy by
 * default (consumers/privacy-retention.ts): the archive's days past the retention period and its raw
 * user agents past their days, and ClickHouse's TTLs at the configured days; then the scheduled
 * digests that are due (consumers/digests.ts). At :40
 * (WAREHOUSE_CRON), when a warehouse is configured, its jobs (consumers/warehouse-jobs.ts): every
 * closed hour not loaded yet, their quality, the aggregates of fully loaded days, hot retention, the
 * privacy jobs — within a budget of their own, resumed by the next run the same way.
 */
import { compactPending } from "../core/archive/compaction.ts";
import { errorDetail } from "../core/warehouse/jobs.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { loadConfig } from "../platform/config.ts";
import type { RunQuery } from "../platform/digests.ts";
import { log, newRequestId, withRequestId } from "../platform/log.ts";
import { countMetric, flushOpsMetrics, observeMetric } from "../platform/ops-metrics.ts";
import { sendDueDigests } from "./digests.ts";
import { applyClickHouseTtls, runArchiveRetention, runRawUserAgentPass } from "./privacy-retention.ts";
import { ARCHIVE_CRON, PRIVACY_BUDGET_MS, WAREHOUSE_CRON } from "./schedule.ts";
import { runWarehouseSchedule } from "./warehouse-jobs.ts";

/** What the Worker's entry hands the Cron: the query executor, which consumers/ may not import (workers/). */
export interface ScheduledHosts {
  runQuery: RunQuery;
}

export function handleScheduled(
  controller: ScheduledController,
  env: Env,
  _ctx: ExecutionContext,
  hosts: ScheduledHosts,
): Promise<void> {
  return withRequestId(newRequestId(), () => scheduledRun(controller, env, hosts));
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
async function scheduledRun(controller: ScheduledController, env: Env, hosts: ScheduledHosts): Promise<void> {
  const cron = controller.cron;
  if (cron !== WAREHOUSE_CRON) {
    await runArchive(cron, env);
    await runDigests(controller, env, hosts);
  }
  if (cron !== ARCHIVE_CRON) await runWarehouse(controller, env);
  // No request passes through a cron invocation to write its metrics afterwards.
  await flushOpsMetrics(env, Date.now(), { force: true }).catch(() => undefined);
}

/** Compaction, then the privacy passes, within their budgets from the run's start. */
async function runArchive(cron: string, env: Env): Promise<void> {
  const started = Date.now();
  const budgetMs = loadConfig(env).COMPACTION_BUDGET_SECONDS * 1000;
  const compaction = await job("archive_compaction", async () =>
    compactPending(await archiveStore(env), zstdCodec, {
      deadline: started + budgetMs,
      log: (line) => log.warn(line),
    }),
  );
  if (compaction) log.metric("archive_compaction", { cron, ms: Date.now() - started, ...compaction });
  await runPrivacy(cron, env, started + budgetMs + PRIVACY_BUDGET_MS);
}

/** The scheduled digests that are due (consumers/digests.ts), after the archive's jobs and within their own budget. */
async function runDigests(controller: ScheduledController, env: Env, hosts: ScheduledHosts): Promise<void> {
  const { runQuery } = hosts;
  const digests = await job("digests", () => sendDueDigests(env, controller.scheduledTime, runQuery));
  if (digests) log.metric("digests", { cron: controller.cron, ...digests });
}

/** The warehouse's schedule; the ledger keeps what was done, and the next run resumes from its frontier. */
async function runWarehouse(controller: ScheduledController, env: Env): Promise<void> {
  const cron = controller.cron;
  const started = Date.now();
  const warehouse = await job("warehouse_jobs", () =>
    runWarehouseSchedule(env, {
      now: controller.scheduledTime,
      deadline: started + loadConfig(env).WAREHOUSE_BUDGET_SECONDS * 1000,
    }),
  );
  if (warehouse) log.metric("warehouse_jobs", { cron, ms: Date.now() - started, ...warehouse });
}

/** The archive's retention and raw-user-agent passes, ClickHouse's TTLs; a failure is logged, the next run retries. */
async function runPrivacy(cron: string, env: Env, deadline: number): Promise<void> {
  const retention = await job("archive_retention", () => runArchiveRetention(env, deadline));
  if (retention) log.metric("archive_retention", { cron, ...retention });
  const rawUserAgents = await job("archive_raw_user_agents", () => runRawUserAgentPass(env, deadline));
  if (rawUserAgents) log.metric("archive_raw_user_agents", { cron, ...rawUserAgents });
  const statements = await job("clickhouse_ttls", () => applyClickHouseTtls(env));
  if (statements && statements.length > 0) log.metric("clickhouse_ttls", { statements });
}
