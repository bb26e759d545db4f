/**
 * WarehouseDO: the one actor that keeps the warehouse in step between scheduled runs (issue #16).
 * - `markHours`: the events consumer names closed hours that received late events (an import of
 *   old history, a queue backlog); they are kept here and loaded again ~5 s later, so the warehouse
 *   has them within a minute.
 * - `startBackfill` / `status`: a backfill of a range of days (`npm run warehouse:load`), hour by
 *   hour, with progress.
 * Work runs on alarms, within a budget each; an alarm that leaves work re-arms. After its loads an
 * alarm rebuilds the aggregates of the days they touched and moves the loaded properties' query
 * cache versions. The jobs themselves (load, aggregates, ledger) are the consumers' code, given to
 * this class by the Worker's entry (workers/main.ts), since actors do not import consumers/.
 */
import { DurableObject } from "cloudflare:workers";
import {
  type BackfillSpec,
  type BackfillStatus,
  backfillHours,
  backfillStatusFor,
} from "../core/warehouse/backfill.ts";
import { dayOf, daysOf, errorDetail, isClosedHour } from "../core/warehouse/jobs.ts";
import { hourFloor } from "../core/warehouse/load.ts";
import { loadConfig } from "../platform/config.ts";
import { log } from "../platform/log.ts";
import { openWarehouse, type Warehouse } from "../platform/warehouse.ts";

type Status = "skipped" | "done" | "failed";

/** The jobs this actor runs (consumers/warehouse-jobs.ts `warehouseWork`). */
export interface WarehouseWork {
  loadHour(
    env: Env,
    db: Warehouse,
    hour: number,
    options: { property?: string; force?: boolean },
  ): Promise<{ status: Status; error?: string; load?: { properties: string[]; events: number; sessions: number } }>;
  aggregateDay(env: Env, db: Warehouse, day: string): Promise<{ status: Status }>;
}

/** Marked hours wait this long, so a burst of late batches (an import) is loaded once. */
export const MARK_DELAY_MS = 5_000;
/** Wall-clock budget of one alarm: no hour or day starts after it. */
export const ALARM_BUDGET_MS = 20_000;
/** A day whose aggregates failed is tried again after this. */
const AGGREGATE_RETRY_MS = 30_000;
/** A marked hour that failed this often is left to the hourly schedule and the quality check. */
const MAX_ATTEMPTS = 10;

interface Job {
  spec: BackfillSpec;
  /** The hours to load, fixed when the job starts (closed hours of the range then). */
  hours: number[];
  days: string[];
  cursor: number;
  status: BackfillStatus;
}

const DIRTY = "dirty:";
const DAY = "day:";

export abstract class WarehouseActor extends DurableObject<Env> {
  protected abstract readonly work: WarehouseWork;

  /** Marks hours to load again (closed ones; others are the schedule's), and arms the alarm. */
  async markHours(hours: number[]): Promise<number> {
    const now = Date.now();
    const closed = [
      ...new Set(hours.filter((h) => Number.isSafeInteger(h) && hourFloor(h) === h && isClosedHour(h, now))),
    ];
    if (closed.length === 0) return 0;
    const known = await this.ctx.storage.get<number>(closed.map((h) => `${DIRTY}${h}`));
    const fresh = closed.filter((h) => !known.has(`${DIRTY}${h}`));
    for (let i = 0; i < fresh.length; i += 128)
      await this.ctx.storage.put(Object.fromEntries(fresh.slice(i, i + 128).map((h) => [`${DIRTY}${h}`, 0])));
    await this.#arm(now + MARK_DELAY_MS);
    return closed.length;
  }

  /** Starts a backfill; refuses (returns the running one) while another runs. */
  async startBackfill(spec: BackfillSpec, now: number): Promise<{ started: boolean; status: BackfillStatus }> {
    const current = await this.ctx.storage.get<Job>("job");
    if (current?.status.state === "running") return { started: false, status: current.status };
    const hours = backfillHours(spec, now);
    const days = daysOf(hours);
    const job: Job = {
      spec,
      hours,
      days,
      cursor: 0,
      status: backfillStatusFor(crypto.randomUUID(), spec, hours.length, days.length, now),
    };
    await this.ctx.storage.put("job", job);
    await this.#arm(now);
    return { started: true, status: job.status };
  }

  async status(): Promise<BackfillStatus | undefined> {
    return (await this.ctx.storage.get<Job>("job"))?.status;
  }

  /** Hours marked and not loaded yet (tests and operators). */
  async pendingHours(): Promise<number[]> {
    return [...(await this.ctx.storage.list({ prefix: DIRTY })).keys()].map((k) => Number(k.slice(DIRTY.length)));
  }

  override async alarm(): Promise<void> {
    const url = loadConfig(this.env).WAREHOUSE_URL;
    if (!url) {
      // No warehouse: nothing to keep in step; marks are dropped.
      await this.ctx.storage.delete([...(await this.ctx.storage.list({ prefix: DIRTY })).keys()]);
      return;
    }
    const deadline = Date.now() + ALARM_BUDGET_MS;
    const changed = new Set<string>();
    let retryIn = 0;
    const db = openWarehouse(url, { max: 1 });
    try {
      retryIn = Math.max(
        await this.#marked(db, deadline, changed),
        await this.#backfill(db, deadline, changed),
        await this.#aggregate(db, deadline),
      );
    } finally {
      await db.destroy();
    }
    await this.#bumpVersions(changed);
    const job = await this.ctx.storage.get<Job>("job");
    const left = (await this.ctx.storage.list({ prefix: DIRTY, limit: 1 })).size > 0;
    const days = (await this.ctx.storage.list({ prefix: DAY, limit: 1 })).size > 0;
    if (job?.status.state === "running" && job.cursor >= job.hours.length && !days) {
      job.status.state = "done";
      job.status.finished_at = new Date().toISOString();
      await this.ctx.storage.put("job", job);
    }
    if (left || days || job?.status.state === "running") await this.#arm(Date.now() + retryIn);
  }

  /** Loads the marked hours, oldest first; returns the delay before a failed one is retried. */
  async #marked(db: Warehouse, deadline: number, changed: Set<string>): Promise<number> {
    const marks = await this.ctx.storage.list<number>({ prefix: DIRTY });
    let retryIn = 0;
    const hours = [...marks].map(([k, n]) => [Number(k.slice(DIRTY.length)), n] as const).sort((a, b) => a[0] - b[0]);
    for (const [hour, attempts] of hours) {
      if (Date.now() >= deadline) break;
      // Deleted first: a mark arriving during the load (events archived after its read) stays.
      await this.ctx.storage.delete(`${DIRTY}${hour}`);
      const outcome = await this.#load(db, hour, { force: true });
      if (outcome.status === "failed") {
        if (attempts + 1 < MAX_ATTEMPTS) await this.ctx.storage.put(`${DIRTY}${hour}`, attempts + 1);
        else
          log.error("warehouse: giving up reloading an hour", {
            hour: new Date(hour).toISOString(),
            error: outcome.error,
          });
        retryIn = Math.max(retryIn, MARK_DELAY_MS * (attempts + 1));
        continue;
      }
      for (const p of outcome.load?.properties ?? []) changed.add(p);
      await this.ctx.storage.put(`${DAY}${dayOf(hour)}`, true);
    }
    return retryIn;
  }

  /** Advances the backfill within the budget; returns the delay before a failed hour is retried. */
  async #backfill(db: Warehouse, deadline: number, changed: Set<string>): Promise<number> {
    const job = await this.ctx.storage.get<Job>("job");
    if (job?.status.state !== "running") return 0;
    while (job.cursor < job.hours.length && Date.now() < deadline) {
      const hour = job.hours[job.cursor] as number;
      const outcome = await this.#load(db, hour, { property: job.spec.property, force: job.spec.force });
      if (outcome.status === "failed") {
        job.status.attempts += 1;
        job.status.last_error = outcome.error;
        // Past ten failures in a row the job stops and says why.
        if (job.status.attempts >= MAX_ATTEMPTS) {
          job.status.state = "failed";
          job.status.finished_at = new Date().toISOString();
        }
        await this.ctx.storage.put("job", job);
        return MARK_DELAY_MS * job.status.attempts;
      }
      job.cursor += 1;
      job.status.hours_done = job.cursor;
      job.status.attempts = 0;
      if (outcome.status === "skipped") job.status.hours_skipped += 1;
      else {
        job.status.events_written += outcome.load?.events ?? 0;
        job.status.sessions_written += outcome.load?.sessions ?? 0;
        for (const p of outcome.load?.properties ?? []) changed.add(p);
      }
      // A day is due once the job has passed its last hour (or the job ends).
      const day = dayOf(hour);
      if (dayOf(job.hours[job.cursor] ?? 0) !== day) await this.ctx.storage.put(`${DAY}${day}`, true);
      await this.ctx.storage.put("job", job);
    }
    return 0;
  }

  /** One hour's load; a throw (the warehouse unreachable) counts as a failed load. */
  #load(db: Warehouse, hour: number, options: { property?: string; force?: boolean }) {
    return this.work
      .loadHour(this.env, db, hour, options)
      .catch((error: unknown) => ({ status: "failed" as const, error: errorDetail(error), load: undefined }));
  }

  /** Rebuilds the aggregates of the days whose hours were loaded; returns the delay before a failed day is retried. */
  async #aggregate(db: Warehouse, deadline: number): Promise<number> {
    const days = [...(await this.ctx.storage.list({ prefix: DAY })).keys()].map((k) => k.slice(DAY.length)).sort();
    for (const day of days) {
      if (Date.now() >= deadline) return 0;
      await this.ctx.storage.delete(`${DAY}${day}`);
      const outcome = await this.work.aggregateDay(this.env, db, day).catch(() => ({ status: "failed" as const }));
      const job = await this.ctx.storage.get<Job>("job");
      if (outcome.status === "failed") {
        await this.ctx.storage.put(`${DAY}${day}`, true);
        return AGGREGATE_RETRY_MS;
      }
      if (job?.status.state === "running" && job.days.includes(day)) {
        job.status.days_aggregated += 1;
        await this.ctx.storage.put("job", job);
      }
    }
    return 0;
  }

  /** Cached answers over the loaded properties' ranges are stale now: move their data versions (best effort). */
  async #bumpVersions(properties: ReadonlySet<string>): Promise<void> {
    await Promise.all(
      [...properties].map((p) =>
        this.env.PROPERTY_DO.getByName(p)
          .applyLive([], [], Date.now())
          .catch((error: unknown) =>
            log.error("warehouse: data version not moved", { property_id: p, error: errorDetail(error) }),
          ),
      ),
    );
  }

  /** Sets the alarm at `at`, unless one is due sooner. */
  async #arm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
