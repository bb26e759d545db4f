/**
 * The batch jobs' ledger (`job_runs`, issue #16): each run of a job over a period is one row,
 * written `running` as it starts and `done` or `failed` as it ends; a done period is skipped
 * unless forced. Redshift has no ON CONFLICT, so a row is replaced by delete + insert.
 */
import { errorDetail, finishedRow, type JobRunRow, runningRow } from "../core/warehouse/jobs.ts";
import type { Warehouse } from "../platform/warehouse.ts";

/** A job's row for one period, if it ran. */
async function readRun(db: Warehouse, job: string, periodStart: number): Promise<JobRunRow | undefined> {
  return db
    .selectFrom("job_runs")
    .selectAll()
    .where("job", "=", job)
    .where("period_start", "=", new Date(periodStart))
    .executeTakeFirst();
}

/** Writes a run's row: replaces the period's row, or adds it (Redshift has no ON CONFLICT). */
export async function writeRun(db: Warehouse, row: JobRunRow): Promise<void> {
  const update = () =>
    db
      .updateTable("job_runs")
      .set(row)
      .where("job", "=", row.job)
      .where("period_start", "=", row.period_start)
      .executeTakeFirst();
  if ((await update()).numUpdatedRows > 0n) return;
  try {
    await db.insertInto("job_runs").values(row).execute();
  } catch (error) {
    // Inserted meanwhile by another run (PostgreSQL's unique index said so): update that row.
    if ((await update()).numUpdatedRows === 0n) throw error;
  }
}

export type RunOutcome<T> = { status: "skipped" } | { status: "done"; value: T } | { status: "failed"; error: string };

/**
 * Runs `work` for one period under the ledger: skipped when done (unless forced), else recorded
 * running, then done with its rows, or failed with the error. Never throws for `work`'s failure.
 */
export async function runLedgered<T>(
  db: Warehouse,
  job: string,
  period: readonly [number, number],
  options: { force?: boolean; now?: () => number },
  work: () => Promise<{ value: T; rows: number; detail: string }>,
): Promise<RunOutcome<T>> {
  const now = options.now ?? Date.now;
  if (!options.force && (await readRun(db, job, period[0]))?.status === "done") return { status: "skipped" };
  const row = runningRow(job, period, now());
  await writeRun(db, row);
  try {
    const { value, rows, detail } = await work();
    await writeRun(db, finishedRow(row, "done", now(), rows, detail));
    return { status: "done", value };
  } catch (error) {
    const detail = errorDetail(error);
    await writeRun(db, finishedRow(row, "failed", now(), 0, detail)).catch(() => undefined);
    return { status: "failed", error: detail };
  }
}

/** The period starts a job has done in [from, to). */
export async function donePeriods(db: Warehouse, job: string, from: number, to: number): Promise<Set<number>> {
  const rows = await db
    .selectFrom("job_runs")
    .select("period_start")
    .where("job", "=", job)
    .where("status", "=", "done")
    .where("period_start", ">=", new Date(from))
    .where("period_start", "<", new Date(to))
    .execute();
  return new Set(rows.map((r) => r.period_start.getTime()));
}
