/**
 * scheduled-crons: each hourly Cron Trigger is its own invocation running its own jobs, in workerd
 * against the real embedded PostgreSQL — ARCHIVE_CRON (:10) compaction, the archive's privacy passes
 * and ClickHouse's TTLs, WAREHOUSE_CRON (:40) the warehouse's schedule, any other cron string (a
 * manual run, wrangler dev's `/__scheduled` without `?cron`) both, the archive first. Seen in the
 * jobs' `tally_metric` lines and in the ledger of a warehouse of the test's own (a schema per run).
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ARCHIVE_CRON, WAREHOUSE_CRON } from "../../consumers/schedule.ts";
import { HOUR_MS } from "../../core/time.ts";
import { dayOf, LOAD_JOB, lastClosedHour, SCHEDULE_JOB } from "../../core/warehouse/jobs.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";

const run = crypto.randomUUID().slice(0, 8);
const schemas: string[] = [];
const lines: string[] = [];

beforeAll(() => {
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
});

afterAll(async () => {
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  });
});

/** A warehouse of the test's own: a schema with the migrated job_runs, reached through search_path. */
async function isolatedWarehouse(name: string): Promise<string> {
  const schema = `sc_${name}_${run}`;
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    for (const table of ["events", "sessions", "job_runs", "data_quality", "daily_metrics", "weekly_reports"])
      await sql`CREATE TABLE ${sql.id(schema, table)} (LIKE ${sql.id("public", table)} INCLUDING ALL)`.execute(db);
  });
  schemas.push(schema);
  const url = new URL(env.WAREHOUSE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

/**
 * Runs the scheduled handler for `cron` on an env whose warehouse is `url` (its history starting
 * today, so a load has few hours to do), and returns the names of the jobs' metric lines, in order.
 */
async function trigger(cron: string, url: string): Promise<{ jobs: string[]; scheduledTime: number }> {
  const from = lines.length;
  const scheduledTime = Date.now();
  const wenv = { ...env, WAREHOUSE_URL: url, WAREHOUSE_LOAD_START: dayOf(scheduledTime) };
  await worker.scheduled(createScheduledController({ cron, scheduledTime }), wenv, createExecutionContext());
  const jobs = lines
    .slice(from)
    .filter((line) => line.startsWith('{"tally_metric"'))
    .map((line) => (JSON.parse(line) as { tally_metric: string }).tally_metric);
  return { jobs, scheduledTime };
}

/** The warehouse ledger's rows by job. */
async function ledger(url: string): Promise<Map<string, { period_end: Date }[]>> {
  return withWarehouse(url, async (db) => {
    const rows = await db.selectFrom("job_runs").select(["job", "period_end"]).execute();
    const byJob = new Map<string, { period_end: Date }[]>();
    for (const row of rows) byJob.set(row.job, [...(byJob.get(row.job) ?? []), row]);
    return byJob;
  });
}

describe("the hourly Cron Triggers", () => {
  it("ARCHIVE_CRON compacts and runs the archive's privacy passes, and leaves the warehouse alone", async () => {
    const url = await isolatedWarehouse("archive");
    const { jobs } = await trigger(ARCHIVE_CRON, url);
    expect(jobs).toEqual(
      expect.arrayContaining(["archive_compaction", "archive_retention", "archive_raw_user_agents"]),
    );
    expect(jobs[0]).toBe("archive_compaction");
    expect(jobs).not.toContain("warehouse_jobs");
    // Not a schedule row, not one hour loaded: the warehouse's run is another invocation's.
    expect([...(await ledger(url)).keys()]).toEqual([]);
  }, 60_000);

  it("WAREHOUSE_CRON loads the warehouse's closed hours and runs none of the archive's jobs", async () => {
    const url = await isolatedWarehouse("warehouse");
    const { jobs, scheduledTime } = await trigger(WAREHOUSE_CRON, url);
    expect(jobs).toEqual(["warehouse_jobs"]);
    const runs = await ledger(url);
    expect(runs.get(SCHEDULE_JOB)?.map((r) => r.period_end.getTime())).toEqual([
      lastClosedHour(scheduledTime) + HOUR_MS,
    ]);
    // Every closed hour of today, once each (none in the day's first hour).
    const today = Date.parse(`${dayOf(scheduledTime)}T00:00:00Z`);
    const closed = Math.max(0, (lastClosedHour(scheduledTime) - today) / HOUR_MS + 1);
    expect(runs.get(LOAD_JOB) ?? []).toHaveLength(closed);
  }, 60_000);

  it("any other cron string runs both, the archive's jobs first", async () => {
    const url = await isolatedWarehouse("both");
    const { jobs } = await trigger("* * * * *", url);
    expect(jobs).toContain("archive_compaction");
    expect(jobs.at(-1)).toBe("warehouse_jobs");
    expect(jobs.indexOf("archive_compaction")).toBeLessThan(jobs.indexOf("warehouse_jobs"));
    expect((await ledger(url)).get(SCHEDULE_JOB)).toHaveLength(1);
  }, 60_000);
});
