/**
 * The warehouse's batch jobs (issue #16), each run recorded in the ledger (consumers/
 * warehouse-ledger.ts). The hourly schedule (runWarehouseSchedule, from the Cron
 * Trigger) loads every closed hour from its frontier on within a time budget, checks each loaded
 * hour's quality, rebuilds the aggregates of every day whose hours are all loaded, then applies hot
 * retention; what the budget leaves waits for the next run. WarehouseDO runs the same hour and day
 * jobs (warehouseWork) for late events and backfills. The pure rules: core/warehouse/jobs.ts.
 */
import { sql } from "kysely";
import type { Event } from "../core/event.ts";
import { DAY_MS, HOUR_MS } from "../core/time.ts";
import {
  AGGREGATES_JOB,
  dayOf,
  dayStart,
  dueDays,
  errorDetail,
  finishedRow,
  type JobRunRow,
  LOAD_JOB,
  lastClosedHour,
  lateHours,
  nextFrontier,
  QUALITY_JOB,
  runningRow,
  SCHEDULE_JOB,
  scheduledHours,
} from "../core/warehouse/jobs.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { loadConfig } from "../platform/config.ts";
import { log } from "../platform/log.ts";
import { registryStub } from "../platform/properties.ts";
import { openWarehouse, type Warehouse } from "../platform/warehouse.ts";
import { runAggregates } from "./warehouse-aggregates.ts";
import { oldestArchivedHour } from "./warehouse-archive.ts";
import { donePeriods, type RunOutcome, runLedgered, writeRun } from "./warehouse-ledger.ts";
import { type HourLoadResult, loadHour } from "./warehouse-load.ts";
import { applyHotRetention, checkQuality } from "./warehouse-quality.ts";
import { runWarehousePrivacy, type WarehousePrivacyReport } from "./warehouse-retention.ts";

/** What one hour's job did: the load (unless skipped) and its quality check. */
export interface HourOutcome {
  hour: number;
  status: "skipped" | "done" | "failed";
  load?: HourLoadResult;
  error?: string;
  /** The quality check's verdict, when it ran. */
  quality?: boolean;
}

/**
 * Loads one hour under the ledger, every property (or one: a backfill's `--property`, which the
 * ledger does not record, since the hour's other properties are not loaded), then checks it.
 */
export async function loadHourJob(
  env: Env,
  db: Warehouse,
  hour: number,
  options: { property?: string; force?: boolean } = {},
): Promise<HourOutcome> {
  const store = await archiveStore(env);
  const load = async () => {
    const properties = options.property
      ? [options.property]
      : (await registryStub(env).list()).map((p) => p.property_id);
    const result = await loadHour(db, store, hour, { properties, exact: options.property !== undefined });
    const detail = `${result.archived} archived events of ${result.properties.length} properties (${result.scope} in scope)`;
    return { value: result, rows: result.events + result.sessions, detail };
  };
  let outcome: RunOutcome<HourLoadResult>;
  if (options.property) {
    try {
      outcome = { status: "done", value: (await load()).value };
    } catch (error) {
      outcome = { status: "failed", error: errorDetail(error) };
    }
  } else outcome = await runLedgered(db, LOAD_JOB, [hour, hour + HOUR_MS], { force: options.force }, load);
  if (outcome.status === "skipped") return { hour, status: "skipped" };
  if (outcome.status === "failed") return { hour, status: "failed", error: outcome.error };
  const quality = await runLedgered(db, QUALITY_JOB, [hour, hour + HOUR_MS], { force: true }, async () => {
    const { ok } = await checkQuality(env, db, hour);
    return { value: ok, rows: 0, detail: ok ? "ok" : "mismatch" };
  });
  return { hour, status: "done", load: outcome.value, quality: quality.status === "done" ? quality.value : undefined };
}

/** Rebuilds one day's aggregates (its week, month, cohorts and funnels too) under the ledger. */
export async function aggregateDayJob(env: Env, db: Warehouse, day: string): Promise<RunOutcome<number>> {
  const start = dayStart(day);
  return runLedgered(db, AGGREGATES_JOB, [start, start + DAY_MS], { force: true }, async () => {
    const rows = await runAggregates(env, db, day);
    return { value: rows, rows, detail: "" };
  });
}

/** What the DO and the schedule run: the two jobs, behind one seam (durable-objects/warehouse-do.ts). */
export const warehouseWork = { loadHour: loadHourJob, aggregateDay: aggregateDayJob };

/**
 * After an archive write: names the closed hours its events belong to (late events: an import, a
 * backlog) to WarehouseDO, which loads them again within seconds. One RPC, only for batches that
 * hold late events; a failure is logged, never the batch's (the schedule and the quality check
 * catch up).
 */
export async function markLateHours(env: Env, events: readonly Event[], now = Date.now()): Promise<void> {
  try {
    if (!loadConfig(env).WAREHOUSE_URL) return;
    const hours = lateHours(
      events.map((e) => e.event_timestamp),
      now,
    );
    if (hours.length > 0) await env.WAREHOUSE_DO.getByName("global").markHours(hours);
  } catch (error) {
    log.error("warehouse: late hours not marked", { error: errorDetail(error) });
  }
}

/** Days with all 24 hours loaded whose aggregates are not done. */
async function daysDue(db: Warehouse): Promise<string[]> {
  const day = sql<Date>`date_trunc('day', period_start)`;
  const loaded = await db
    .selectFrom("job_runs")
    .select([day.as("day"), (eb) => eb.fn.countAll<number>().as("hours")])
    .where("job", "=", LOAD_JOB)
    .where("status", "=", "done")
    .groupBy(day)
    .execute();
  const aggregated = await db
    .selectFrom("job_runs")
    .select("period_start")
    .where("job", "=", AGGREGATES_JOB)
    .where("status", "=", "done")
    .execute();
  return dueDays(
    new Map(loaded.map((r) => [dayOf(r.day.getTime()), Number(r.hours)])),
    new Set(aggregated.map((r) => dayOf(r.period_start.getTime()))),
  );
}

/** WAREHOUSE_LOAD_START (`YYYY-MM-DD`), where a new warehouse's history starts instead of the oldest archived hour. */
function configuredStart(env: Env): number | undefined {
  const value = loadConfig(env).WAREHOUSE_LOAD_START;
  return value ? dayStart(value) : undefined;
}

export interface ScheduleReport {
  frontier: number;
  hours_loaded: number;
  hours_failed: number;
  /** Closed hours not done that the budget left for the next run. */
  hours_left: number;
  rows_written: number;
  days_aggregated: number;
  quality_mismatches: number;
  retention_rows: number;
  /** The day's privacy jobs (raw user agents, the retention period); null when the budget ran out first. */
  privacy: WarehousePrivacyReport | null;
  errors: string[];
}

/** Consecutive failed hours after which a run stops loading (the warehouse is likely down). */
const MAX_FAILURES = 3;

/**
 * One run of the hourly schedule, until `deadline` (epoch ms; no job starts after it). Its row
 * (SCHEDULE_JOB) keeps where history starts and the frontier: the first run starts at `start`,
 * WAREHOUSE_LOAD_START or the oldest archived hour; hours past the frontier that a late-event
 * reload or a backfill did already are skipped.
 */
export async function runWarehouseSchedule(
  env: Env,
  options: { now: number; deadline: number; start?: number },
): Promise<ScheduleReport | null> {
  const url = loadConfig(env).WAREHOUSE_URL;
  if (!url) return null;
  const db = openWarehouse(url, { max: 1 });
  try {
    const { now, deadline } = options;
    const limit = lastClosedHour(now) + HOUR_MS;
    const anchor = await db.selectFrom("job_runs").selectAll().where("job", "=", SCHEDULE_JOB).executeTakeFirst();
    let row: JobRunRow;
    if (anchor) row = { ...anchor, status: "running", started_at: new Date(now), finished_at: null };
    else {
      const registry = (await registryStub(env).list()).map((p) => p.property_id);
      const start =
        options.start ?? configuredStart(env) ?? (await oldestArchivedHour(await archiveStore(env), registry)) ?? limit;
      row = runningRow(SCHEDULE_JOB, [start, start], now, "frontier: every hour before period_end is loaded");
    }
    await writeRun(db, row);
    const frontier = row.period_end.getTime();
    const done = await donePeriods(db, LOAD_JOB, frontier, limit);
    const hours = scheduledHours(frontier, done, now);
    const report: ScheduleReport = {
      frontier,
      hours_loaded: 0,
      hours_failed: 0,
      hours_left: 0,
      rows_written: 0,
      days_aggregated: 0,
      quality_mismatches: 0,
      retention_rows: 0,
      privacy: null,
      errors: [],
    };
    let failures = 0;
    for (const hour of hours) {
      if (Date.now() >= deadline || failures >= MAX_FAILURES) {
        report.hours_left++;
        continue;
      }
      const outcome = await loadHourJob(env, db, hour);
      if (outcome.status === "failed") {
        failures++;
        report.hours_failed++;
        report.errors.push(`${new Date(hour).toISOString()}: ${outcome.error}`);
        continue;
      }
      failures = 0;
      done.add(hour);
      report.hours_loaded += outcome.status === "done" ? 1 : 0;
      report.rows_written += (outcome.load?.events ?? 0) + (outcome.load?.sessions ?? 0);
      if (outcome.quality === false) report.quality_mismatches++;
    }
    report.frontier = nextFrontier(frontier, done, limit);
    await writeRun(
      db,
      finishedRow(
        { ...row, period_end: new Date(report.frontier) },
        "done",
        Date.now(),
        report.rows_written,
        row.detail,
      ),
    );
    for (const day of await daysDue(db)) {
      if (Date.now() >= deadline) break;
      const outcome = await aggregateDayJob(env, db, day);
      if (outcome.status === "done") report.days_aggregated++;
      else if (outcome.status === "failed") report.errors.push(`aggregates ${day}: ${outcome.error}`);
    }
    if (Date.now() < deadline)
      report.retention_rows = await applyHotRetention(env, db, now, report.frontier).catch((error: unknown) => {
        report.errors.push(`hot retention: ${errorDetail(error)}`);
        return 0;
      });
    if (Date.now() < deadline) {
      report.privacy = await runWarehousePrivacy(db, loadConfig(env), now);
      report.errors.push(...report.privacy.errors);
    }
    return report;
  } finally {
    await db.destroy();
  }
}
