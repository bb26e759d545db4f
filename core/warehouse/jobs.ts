/**
 * The warehouse's batch jobs, their pure part (issue #16): job names, the `job_runs` rows they
 * write, which hours are closed or late, and how the hourly schedule moves forward. Every run of a
 * job over a period is one ledger row (running → done | failed); a done period is skipped unless
 * forced, and every job replaces its period's rows, so running one again never doubles them.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../time.ts";
import { hourFloor } from "./load.ts";
import type { WarehouseDatabase } from "./schema.ts";

/** One hour of events and sessions, all properties (consumers/warehouse-load.ts). */
export const LOAD_JOB = "warehouse_load";
/** One UTC day's aggregates, with its week, month, cohorts and funnels (consumers/warehouse-aggregates.ts). */
export const AGGREGATES_JOB = "warehouse_aggregates";
/** One hour's data-quality check (consumers/warehouse-quality.ts). */
export const QUALITY_JOB = "warehouse_quality";
/**
 * The hourly schedule's own row: `period_start` is where its history starts (the oldest archived
 * hour, or WAREHOUSE_LOAD_START, fixed by the first run), `period_end` its frontier — every hour
 * before it is loaded; the next run resumes there.
 */
export const SCHEDULE_JOB = "warehouse_schedule";

export type JobStatus = "running" | "done" | "failed";
export type JobRunRow = WarehouseDatabase["job_runs"];

/** The ledger's `detail` column holds 4,096 characters. */
const DETAIL_CHARS = 4096;

/** An hour is closed (loaded by the schedule) this long after it ends, as compaction waits (core/archive/compaction.ts). */
export const CLOSED_AFTER_MS = 5 * MINUTE_MS;

export function isClosedHour(hour: number, now: number): boolean {
  return hour + HOUR_MS + CLOSED_AFTER_MS <= now;
}

/** The start of the latest closed hour at `now`. */
export function lastClosedHour(now: number): number {
  return hourFloor(now - CLOSED_AFTER_MS) - HOUR_MS;
}

/** The hours starting in [from, to), in order. */
export function hoursIn(from: number, to: number): number[] {
  const hours: number[] = [];
  for (let h = hourFloor(from); h < to; h += HOUR_MS) if (h >= from) hours.push(h);
  return hours;
}

/**
 * The closed hours of events that arrived after their hour was closed (a queue backlog, an
 * import, a late beacon): the scheduled load may have passed them already, so they are loaded
 * again. Distinct, in order.
 */
export function lateHours(eventTimes: Iterable<number>, now: number): number[] {
  const hours = new Set<number>();
  for (const t of eventTimes) {
    const hour = hourFloor(t);
    if (isClosedHour(hour, now)) hours.add(hour);
  }
  return [...hours].sort((a, b) => a - b);
}

/** `YYYY-MM-DD` of the UTC day an instant falls in. */
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
export const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** The 24 hours of a UTC day. */
export function hoursOfDay(day: string): number[] {
  const start = dayStart(day);
  return hoursIn(start, start + DAY_MS);
}

/** The distinct days of some hours, in order. */
export function daysOf(hours: Iterable<number>): string[] {
  return [...new Set([...hours].map(dayOf))].sort();
}

/**
 * The days whose aggregates are due: all 24 hours loaded (`loadedHours` per day) and no done
 * aggregates run since (a load of one of its hours deletes that run: consumers/warehouse-load.ts).
 */
export function dueDays(loadedHours: ReadonlyMap<string, number>, aggregated: ReadonlySet<string>): string[] {
  return [...loadedHours]
    .filter(([day, hours]) => hours >= 24 && !aggregated.has(day))
    .map(([day]) => day)
    .sort();
}

/** The first hour from `frontier` on that is not done (and before `limit`): where the schedule resumes. */
export function nextFrontier(frontier: number, done: ReadonlySet<number>, limit: number): number {
  let h = frontier;
  while (h < limit && done.has(h)) h += HOUR_MS;
  return h;
}

/** The hours the schedule loads at `now`: closed, from the frontier on, not done yet; oldest first. */
export function scheduledHours(frontier: number, done: ReadonlySet<number>, now: number): number[] {
  return hoursIn(frontier, lastClosedHour(now) + HOUR_MS).filter((h) => !done.has(h));
}

/** A run's row as it starts. */
export function runningRow(job: string, period: readonly [number, number], now: number, detail = ""): JobRunRow {
  return {
    job,
    period_start: new Date(period[0]),
    period_end: new Date(period[1]),
    status: "running",
    started_at: new Date(now),
    finished_at: null,
    rows_written: 0,
    detail: detail.slice(0, DETAIL_CHARS),
  };
}

/** The same run, finished. */
export function finishedRow(
  row: JobRunRow,
  status: Exclude<JobStatus, "running">,
  now: number,
  rows: number,
  detail: string,
): JobRunRow {
  return { ...row, status, finished_at: new Date(now), rows_written: rows, detail: detail.slice(0, DETAIL_CHARS) };
}

/** An error as one ledger line. */
export function errorDetail(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, DETAIL_CHARS);
}
