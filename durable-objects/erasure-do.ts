/**
 * ErasureActor: a property's GDPR erasures (one actor per property, `ERASURE_DO.getByName(id)`),
 * run one at a time in the order asked, in steps on alarms: find the visitor's client ids and
 * hours, rewrite the archive (the truth, first, so nothing rebuilds from it with them), delete from
 * ClickHouse and rebuild the touched rollups, delete from the warehouse and rebuild its aggregates,
 * forget them in the session actors, then move the property's data versions so no cached answer
 * outlives the erasure. A visitor's erasure runs these steps once more FOLLOW_UP_DELAY_MS later
 * (core/privacy/erasure.ts), with the client ids the first pass found: events accepted before the
 * request but not in ClickHouse yet (queued, retried) are found then. Each unit of work is idempotent and progress is stored after it, so an
 * alarm that dies mid-step is retried by the next and converges. A job's status is its audit
 * record: who asked, when, what each store removed, when it finished; the visitor id itself is
 * kept only while the job runs (the audit keeps its SHA-256).
 * The ClickHouse and warehouse work is the consumers' code, given by the Worker's entry
 * (workers/main.ts: ErasureDO), since actors do not import consumers/.
 */
import { DurableObject } from "cloudflare:workers";
import { AppError } from "../core/errors.ts";
import { sha256Hex } from "../core/hash.ts";
import { describeIssues, toFieldIssues } from "../core/issues.ts";
import {
  type ErasureAudit,
  ErasureAuditSchema,
  type ErasureFound,
  type ErasureRequest,
  ErasureRequestSchema,
  type ErasureStatus,
  type ErasureStore,
  type ErasureTarget,
  erasureStatusFor,
  FOLLOW_UP_DELAY_MS,
  nextStep,
  type StoreErased,
} from "../core/privacy/erasure.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { eraseFromActors } from "./erasure-actors.ts";
import { deleteOwnObjects, eraseArchiveHour, ownArchiveHours } from "./erasure-archive.ts";
import { activeKey, followUpKey, type Job, jobKey, nextFollowUp, QUEUE, queueDueFollowUps } from "./erasure-jobs.ts";

/** The store work an erasure runs (consumers/erasure-work.ts `erasureWork`). */
export interface ErasureWork {
  find(env: Env, target: ErasureTarget): Promise<ErasureFound>;
  eraseClickHouse(env: Env, target: ErasureTarget, hours: readonly number[]): Promise<StoreErased>;
  eraseWarehouse(env: Env, target: ErasureTarget, hours: readonly number[]): Promise<StoreErased>;
}

/** Wall-clock budget of one alarm: no unit of work starts after it. */
const ALARM_BUDGET_MS = 15_000;
/** A step failing this often in a row fails the job (the audit says where and why). */
const MAX_ATTEMPTS = 10;

export abstract class ErasureActor extends DurableObject<Env> {
  protected abstract readonly work: ErasureWork;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS erasure_hours (erasure_id TEXT NOT NULL, store TEXT NOT NULL, hour INTEGER NOT NULL, PRIMARY KEY (erasure_id, store, hour)) WITHOUT ROWID",
    );
  }

  /**
   * Queues an erasure. With an `erasure_id` already known, or for a visitor whose erasure is queued
   * or running, returns that job's status instead.
   */
  async start(input: ErasureRequest): Promise<ErasureStatus> {
    const parsed = ErasureRequestSchema.safeParse(input);
    if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
    const request = parsed.data;
    const id = request.erasure_id ?? crypto.randomUUID();
    const known = await this.ctx.storage.get<Job>(jobKey(id));
    if (known) return known.status;
    const hash = request.visitor === undefined ? undefined : await sha256Hex(request.visitor);
    const active = hash ? await this.ctx.storage.get<string>(activeKey(hash)) : undefined;
    const running = active ? await this.ctx.storage.get<Job>(jobKey(active)) : undefined;
    if (running) return running.status;
    const job: Job = {
      status: erasureStatusFor(request, id, hash, Date.now()),
      ...(request.visitor === undefined ? {} : { visitor: request.visitor }),
      client_ids: [],
      cursor: 0,
    };
    const queue = (await this.ctx.storage.get<string[]>(QUEUE)) ?? [];
    await this.ctx.storage.put({
      [jobKey(id)]: job,
      [QUEUE]: [...queue, id],
      ...(hash ? { [activeKey(hash)]: id } : {}),
    });
    // An alarm set for a later follow-up pass must not hold this job back.
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > Date.now()) await this.ctx.storage.setAlarm(Date.now());
    return job.status;
  }

  /** Erasures waiting or running (the route refuses new ones past core/privacy MAX_QUEUED_ERASURES). */
  async queued(): Promise<number> {
    return ((await this.ctx.storage.get<string[]>(QUEUE)) ?? []).length;
  }

  /** One erasure's status, or undefined for an id this property never had. */
  async status(erasureId: string): Promise<ErasureStatus | undefined> {
    return (await this.ctx.storage.get<Job>(jobKey(erasureId)))?.status;
  }

  /** The audit: every finished erasure of this property, newest first. */
  async audit(): Promise<ErasureAudit[]> {
    const jobs = [...(await this.ctx.storage.list<Job>({ prefix: "job:" })).values()];
    return jobs
      .flatMap((j) => {
        const audit = ErasureAuditSchema.safeParse(j.status);
        return audit.success ? [audit.data] : [];
      })
      .sort((a, b) => b.finished_at.localeCompare(a.finished_at));
  }

  /** The alarm in progress: a second call (an operator's nudge, a test) waits for it instead of racing it. */
  #running: Promise<void> | null = null;

  override async alarm(): Promise<void> {
    if (!this.#running) this.#running = this.#run().finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(): Promise<void> {
    await queueDueFollowUps(this.ctx.storage, Date.now());
    const [id] = (await this.ctx.storage.get<string[]>(QUEUE)) ?? [];
    if (id !== undefined) {
      if (!(await this.#runJob(id))) return;
      const rest = ((await this.ctx.storage.get<string[]>(QUEUE)) ?? []).filter((q) => q !== id);
      await this.ctx.storage.put(QUEUE, rest);
      if (rest.length > 0) return this.ctx.storage.setAlarm(Date.now());
    }
    const next = await nextFollowUp(this.ctx.storage);
    if (next !== undefined) await this.ctx.storage.setAlarm(next);
  }

  /** Runs the job for one alarm's budget: true once it left the queue's head, false when its own alarm is set. */
  async #runJob(id: string): Promise<boolean> {
    const job = await this.ctx.storage.get<Job>(jobKey(id));
    if (!job || (job.status.state !== "queued" && job.status.state !== "running")) return true;
    job.status.state = "running";
    job.status.started_at ??= new Date().toISOString();
    const deadline = Date.now() + ALARM_BUDGET_MS;
    try {
      while (job.status.state === "running" && Date.now() < deadline) {
        const finished = await this.#step(job, deadline);
        job.status.attempts = 0;
        if (finished) this.#advance(job);
        await this.ctx.storage.put(jobKey(id), job);
      }
    } catch (error) {
      job.status.attempts += 1;
      job.status.last_error = `${job.status.step}: ${error instanceof Error ? error.message : String(error)}`;
      if (job.status.attempts >= MAX_ATTEMPTS) this.#finish(job, "failed");
      else {
        await this.ctx.storage.put(jobKey(id), job);
        await this.ctx.storage.setAlarm(Date.now() + 5_000 * job.status.attempts);
        return false;
      }
      await this.ctx.storage.put(jobKey(id), job);
    }
    if (job.status.state !== "running") return true;
    await this.ctx.storage.setAlarm(Date.now());
    return false;
  }

  /** Runs the current step (or part of it, within the budget); true when the step is complete. */
  async #step(job: Job, deadline: number): Promise<boolean> {
    const target: ErasureTarget = {
      property_id: job.status.property_id,
      scope: job.status.scope,
      ...(job.visitor === undefined ? {} : { visitor: job.visitor }),
      client_ids: job.client_ids,
    };
    switch (job.status.step) {
      case "find":
        await this.#find(job, target);
        return true;
      case "archive":
        return this.#archive(job, target, deadline);
      case "clickhouse":
        this.#report(
          job,
          "clickhouse",
          await this.work.eraseClickHouse(this.env, target, this.#hours(job, "clickhouse")),
        );
        return true;
      case "warehouse":
        await this.#warehouse(job, target);
        return true;
      case "actors": {
        const erased = await eraseFromActors(this.env, target);
        const stores = job.status.stores;
        const forgotten = stores.session_actors.rows_removed + (erased.session_actors.rows_removed ?? 0);
        stores.session_actors = { ...stores.session_actors, ...erased.session_actors, rows_removed: forgotten };
        stores.live_windows = { ...stores.live_windows, ...erased.live_windows };
        return true;
      }
      case "notify":
        await this.env.PROPERTY_DO.getByName(target.property_id).dataChanged();
        job.status.stores.query_cache = { ...job.status.stores.query_cache, state: "done" };
        return true;
    }
  }

  async #find(job: Job, target: ErasureTarget): Promise<void> {
    const found = await this.work.find(this.env, target);
    const own =
      target.scope === "property" ? await ownArchiveHours(await archiveStore(this.env), target.property_id) : [];
    const archive = [...new Set([...found.clickhouse_hours, ...found.warehouse_hours, ...own])];
    const id = job.status.erasure_id;
    this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("DELETE FROM erasure_hours WHERE erasure_id = ?", id);
      const rows: [string, number[]][] = [
        ["clickhouse", found.clickhouse_hours],
        ["warehouse", found.warehouse_hours],
        ["archive", archive],
      ];
      for (const [store, hours] of rows)
        for (const hour of hours)
          this.ctx.storage.sql.exec("INSERT INTO erasure_hours VALUES (?, ?, ?)", id, store, hour);
    });
    // The requested id is erased as a client id too: a session actor may hold it before any store does.
    job.client_ids = [...new Set([...found.client_ids, ...(target.visitor === undefined ? [] : [target.visitor])])];
    if (job.pass === 2 && job.status.follow_up) job.status.follow_up.hours_found = archive.length;
    else job.status.hours_found = archive.length;
    job.status.client_ids_found = found.client_ids.length;
  }

  #hours(job: Job, store: string, offset = 0, limit = -1): number[] {
    return this.ctx.storage.sql
      .exec<{ hour: number }>(
        "SELECT hour FROM erasure_hours WHERE erasure_id = ? AND store = ? ORDER BY hour LIMIT ? OFFSET ?",
        job.status.erasure_id,
        store,
        limit,
        offset,
      )
      .toArray()
      .map((r) => r.hour);
  }

  /** A deleted property's own objects first (page by page), then each hour's rewrite; progress kept per hour. */
  async #archive(job: Job, target: ErasureTarget, deadline: number): Promise<boolean> {
    const store = await archiveStore(this.env);
    const report = job.status.stores.archive;
    if (target.scope === "property")
      for (let deleted = -1; deleted !== 0; ) {
        if (Date.now() >= deadline) return false;
        deleted = await deleteOwnObjects(store, target.property_id);
        report.objects_deleted += deleted;
        await this.ctx.storage.put(jobKey(job.status.erasure_id), job);
      }
    for (const hour of this.#hours(job, "archive", job.cursor)) {
      if (Date.now() >= deadline) return false;
      const result = await eraseArchiveHour(store, target, hour);
      report.files_read += result.files_read;
      report.files_rewritten += result.files_rewritten;
      report.rows_removed += result.rows_dropped;
      job.cursor += 1;
      await this.ctx.storage.put(jobKey(job.status.erasure_id), job);
    }
    report.state = "done";
    return true;
  }

  /**
   * The warehouse's rows and aggregates, then its hours marked for WarehouseDO to load again from
   * the rewritten archive: a reload that read an hour before the rewrite and wrote it after the
   * delete would bring the visitor back, and one that read it during the rewrite could miss other
   * visitors' rows (a file deleted between its listing and its read); the marked reload, seconds
   * later, converges either.
   */
  async #warehouse(job: Job, target: ErasureTarget): Promise<void> {
    const hours = this.#hours(job, "warehouse");
    const erased = await this.work.eraseWarehouse(this.env, target, hours);
    this.#report(job, "warehouse", erased);
    if (erased.skipped || target.scope !== "visitor" || hours.length === 0) return;
    const marked = await this.env.WAREHOUSE_DO.getByName("global").markHours(hours);
    job.status.stores.warehouse.note = `${marked} hours marked for WarehouseDO to reload from the rewritten archive`;
  }

  /** A store's counts, added to the earlier pass's (a retried step finds nothing more to count). */
  #report(job: Job, store: ErasureStore, erased: StoreErased): void {
    const report = job.status.stores[store];
    job.status.stores[store] = {
      ...report,
      state: erased.skipped ? "skipped" : "done",
      rows_removed: report.rows_removed + erased.rows_removed,
      days_rebuilt: report.days_rebuilt + erased.days_rebuilt,
      ...(erased.skipped ? { note: erased.skipped } : {}),
    };
  }

  #advance(job: Job): void {
    const next = nextStep(job.status.step);
    if (next) job.status.step = next;
    else this.#finish(job, "done");
  }

  /**
   * Ends a pass. A visitor's first pass that succeeded is done, and its follow-up pass waits
   * FOLLOW_UP_DELAY_MS with the visitor's ids kept; otherwise the visitor's ids and hours are
   * dropped and the status stays as the audit record.
   */
  #finish(job: Job, state: "done" | "failed"): void {
    const id = job.status.erasure_id;
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM erasure_hours WHERE erasure_id = ?", id);
    job.status.state = state;
    // Not awaited: storage writes apply in order, and the alarm's put of the job that follows commits with them.
    if (job.pass !== 2 && job.status.visitor_sha256) void this.ctx.storage.delete(activeKey(job.status.visitor_sha256));
    if (job.pass === 2 && job.status.follow_up)
      Object.assign(job.status.follow_up, { state, finished_at: new Date(now).toISOString() });
    else job.status.finished_at = new Date(now).toISOString();
    if (state === "done" && job.status.scope === "visitor" && job.pass !== 2) {
      job.status.follow_up = {
        due_at: new Date(now + FOLLOW_UP_DELAY_MS).toISOString(),
        state: "pending",
        hours_found: 0,
      };
      void this.ctx.storage.put(followUpKey(id), now + FOLLOW_UP_DELAY_MS);
      return;
    }
    delete job.visitor;
    job.client_ids = [];
  }
}
