/**
 * ReplayDO: the one replay job at a time, rebuilding projections from the event log (the archive).
 * It works through the range hour by hour on alarms (each step stays far inside a request's CPU
 * limit), keeps the visitors' session states between hours in its SQLite, and records progress
 * so `GET /api/v1/admin/replay` and `npm run replay` can show it. A step that fails is retried by
 * the next alarm; its ClickHouse inserts carry a token per job and hour, so a retry writes nothing
 * twice, and a new job (after deleting the range) writes afresh.
 */
import { DurableObject } from "cloudflare:workers";
import { readManifest } from "../core/archive/compaction-step.ts";
import {
  type ArchivePartition,
  type ArchiveRecord,
  fromArchiveRecord,
  hourPrefix,
  liveFiles,
  partitionOf,
} from "../core/archive/layout.ts";
import { decodeArchiveFile } from "../core/archive/parquet.ts";
import { dedupeRecords } from "../core/archive/plan.ts";
import { type ArchiveStore, listAll } from "../core/archive/store.ts";
import { storedEventKey } from "../core/clickhouse-row.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../core/event.ts";
import { sessionShards } from "../core/property/property.ts";
import { alignedCover, DAYS_TABLES, respanStatements } from "../core/query/rollup-spans.ts";
import { type ReplayStatus, replayStatusFor } from "../core/replay/job.ts";
import { cancelLive, type LoggedRow, loggedVersionsStatement } from "../core/replay/live-overlap.ts";
import {
  clearStatements,
  type ReplayRows,
  type ReplaySpec,
  replayChunk,
  replayHours,
  replayRange,
  type VisitorStates,
  withinRange,
} from "../core/replay/replay.ts";
import { decodeVisitor, encodeVisitor } from "../core/session/codec.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { clickHouseClient, clickHouseCommand } from "../platform/clickhouse.ts";
import { createClickHouseSink } from "../platform/clickhouse-sink.ts";
import { loadConfig } from "../platform/config.ts";
import { propertyConfig, registryStub } from "../platform/properties.ts";
import { applyToActors } from "./client.ts";

/** The readable records of one archive hour: the manifest's files and the batch files it does not name. */
async function readHour(store: ArchiveStore, partition: ArchivePartition): Promise<ArchiveRecord[]> {
  const records: ArchiveRecord[] = [];
  const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
  const { manifest } = await readManifest(store, partition);
  for (const key of liveFiles(listed, manifest)) {
    const object = await store.get(key);
    if (object) records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
  }
  return records;
}

/** Hours per alarm: small enough to stay well inside the CPU limit for a busy property's hour. */
const HOURS_PER_STEP = 6;
/** Events the actors target re-applies per RPC round (the consumer's batch size). */
const ACTOR_CHUNK = 100;
/** The session actors keep a visitor's state a day: only the last day is worth re-applying. */
const ACTORS_WINDOW_MS = 24 * 3_600_000;

interface Job {
  id: string;
  spec: ReplaySpec;
  properties: string[];
  /** Index into the work list (properties × hours). */
  cursor: number;
  status: ReplayStatus;
}

export class ReplayDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS visitors (key TEXT PRIMARY KEY, state TEXT NOT NULL)");
  }

  /** Starts a job; refuses (returns the running one) while another runs. */
  async start(spec: ReplaySpec, now: number): Promise<{ started: boolean; status: ReplayStatus }> {
    const current = await this.ctx.storage.get<Job>("job");
    if (current?.status.state === "running") return { started: false, status: current.status };
    const properties = spec.property
      ? [spec.property]
      : (await registryStub(this.env).list()).map((p) => p.property_id);
    const id = crypto.randomUUID();
    const hours = replayHours(spec).length * properties.length;
    const job: Job = { id, spec, properties, cursor: 0, status: replayStatusFor(id, spec, hours, now) };
    this.ctx.storage.sql.exec("DELETE FROM visitors");
    await this.ctx.storage.put("job", job);
    await this.ctx.storage.setAlarm(now);
    return { started: true, status: job.status };
  }

  async status(): Promise<ReplayStatus | undefined> {
    return (await this.ctx.storage.get<Job>("job"))?.status;
  }

  override async alarm(): Promise<void> {
    const job = await this.ctx.storage.get<Job>("job");
    if (job?.status.state !== "running") return;
    try {
      if (job.cursor === 0 && job.status.phase === "clearing") await this.#clear(job);
      await this.#step(job);
    } catch (error) {
      job.status.attempts += 1;
      job.status.last_error = error instanceof Error ? error.message : String(error);
      // Alarms retry on their own; past ten failures the job stops and says why.
      if (job.status.attempts >= 10) {
        job.status.state = "failed";
        job.status.finished_at = new Date().toISOString();
      } else await this.ctx.storage.setAlarm(Date.now() + 5_000 * job.status.attempts);
      await this.ctx.storage.put("job", job);
    }
  }

  /** Deletes the range from every table it rewrites (lightweight deletes, synchronous). */
  async #clear(job: Job): Promise<void> {
    if (job.spec.target !== "actors") {
      const config = loadConfig(this.env);
      const [from, to] = replayRange(job.spec);
      for (const property of job.properties)
        for (const s of clearStatements(property, from, to)) await clickHouseCommand(config, s);
    }
    if (job.spec.target !== "clickhouse") {
      // Re-applied events would only be recognised as repeats within a visitor's last 32: start clean.
      const fallback = loadConfig(this.env).SESSION_BUCKETS;
      for (const property of job.properties) {
        const buckets = sessionShards(await propertyConfig(this.env, property), fallback);
        await this.env.PROPERTY_DO.getByName(property).resetLive();
        for (let b = 0; b < buckets; b++) await this.env.SESSION_DO.getByName(`${property}|${b}`).reset();
      }
    }
    job.status.phase = "replaying";
    await this.ctx.storage.put("job", job);
  }

  async #step(job: Job): Promise<void> {
    const hours = replayHours(job.spec);
    const total = hours.length * job.properties.length;
    const store = await archiveStore(this.env);
    const sink = createClickHouseSink(loadConfig(this.env));
    const range = replayRange(job.spec);
    for (let n = 0; n < HOURS_PER_STEP && job.cursor < total; n++) {
      const property = job.properties[Math.floor(job.cursor / hours.length)] ?? "";
      const hour = hours[job.cursor % hours.length] ?? 0;
      // The property's own files of the hour, and its rows in the hour's pooled files.
      const records = [
        ...(await readHour(store, partitionOf(property, hour))),
        ...(await readHour(store, partitionOf(POOLED_ARCHIVE_ID, hour))).filter((r) => r.property_id === property),
      ];
      const kept = dedupeRecords(records).kept;
      const received = new Map(kept.map((r) => [r.event_id, r.received_at]));
      const events = kept.map((r) => fromArchiveRecord(r).event);
      const states = this.#load(events);
      const rows = withinRange(
        replayChunk(events, states, (e) => received.get(e.event_id) ?? e.event_timestamp),
        range,
      );
      const token = `replay-${job.id}-${property}-${hour}`;
      if (job.spec.target !== "actors") {
        const fresh = await this.#withoutLive(property, rows, events);
        if (fresh.events.length > 0) await sink.insert(fresh.events, token);
        if (fresh.sessionLog.length > 0) await sink.insertSessionLog(fresh.sessionLog, `${token}-sessions`);
      }
      if (job.spec.target !== "clickhouse") await this.#toActors(events, range);
      this.#save(states);
      job.cursor += 1;
      job.status.hours_done = job.cursor;
      job.status.events_read += records.length;
      job.status.events_written += rows.events.length;
      job.status.session_rows_written += rows.sessionLog.length;
      job.status.attempts = 0;
      await this.ctx.storage.put("job", job);
    }
    if (job.cursor >= total) {
      if (job.spec.target !== "actors") await this.#respan(job);
      job.status.state = "done";
      job.status.finished_at = new Date().toISOString();
      this.ctx.storage.sql.exec("DELETE FROM visitors");
      await this.ctx.storage.put("job", job);
    } else await this.ctx.storage.setAlarm(Date.now());
  }

  /**
   * Day blocks longer than a day straddle the replayed range: while it ran they held what the
   * clear left of them plus what the replay added. Rebuild them from the one-day rows, which are
   * exact again. Idempotent, so a retried alarm may run it twice.
   */
  async #respan(job: Job): Promise<void> {
    const config = loadConfig(this.env);
    const [from, to] = alignedCover(...replayRange(job.spec));
    for (const property of job.properties)
      for (const table of DAYS_TABLES)
        for (const sql of respanStatements(table))
          await clickHouseCommand(config, {
            sql,
            params: { p: property, from, to },
            settings: { lightweight_deletes_sync: "2" },
          });
  }

  /**
   * A step's rows less what the live path wrote into the cleared range meanwhile
   * (core/replay/live-overlap.ts): events `events` holds already are not written again, and the
   * live path's session_log rows for the step's sessions are cancelled.
   */
  async #withoutLive(property: string, rows: ReplayRows, events: readonly Event[]): Promise<ReplayRows> {
    const ids = new Set(rows.events.map((r) => r.event_id));
    const sink = createClickHouseSink(loadConfig(this.env));
    const written = ids.size > 0 ? await sink.storedEventIds(events.filter((e) => ids.has(e.event_id))) : new Set();
    const fresh = rows.events.filter((r) => !written.has(storedEventKey(r.property_id, r.event_id)));
    if (rows.sessionLog.length === 0) return { events: fresh, sessionLog: [] };
    const statement = loggedVersionsStatement(property, rows.sessionLog);
    const result = await clickHouseClient(loadConfig(this.env)).query({
      query: statement.sql,
      query_params: statement.params,
      format: "JSONEachRow",
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    return {
      events: fresh,
      sessionLog: [...rows.sessionLog, ...cancelLive(rows.sessionLog, await result.json<LoggedRow>())],
    };
  }

  /** The live actors only hold the last day: re-apply what falls in it, through the live path. */
  async #toActors(events: readonly Event[], [from, to]: [number, number]): Promise<void> {
    const recent = events
      .filter((e) => e.event_timestamp >= Math.max(from, Date.now() - ACTORS_WINDOW_MS) && e.event_timestamp < to)
      .sort((a, b) => a.event_timestamp - b.event_timestamp);
    for (let i = 0; i < recent.length; i += ACTOR_CHUNK)
      await applyToActors(this.env, recent.slice(i, i + ACTOR_CHUNK), Date.now());
  }

  #load(events: readonly Event[]): VisitorStates {
    const states: VisitorStates = new Map();
    const keys = [...new Set(events.map((e) => `${e.property_id}|${e.client_id}`))];
    for (let i = 0; i < keys.length; i += 90) {
      const chunk = keys.slice(i, i + 90);
      const sql = `SELECT key, state FROM visitors WHERE key IN (${chunk.map(() => "?").join(",")})`;
      for (const row of this.ctx.storage.sql.exec<{ key: string; state: string }>(sql, ...chunk))
        states.set(row.key, decodeVisitor(row.state));
    }
    return states;
  }

  #save(states: VisitorStates): void {
    this.ctx.storage.transactionSync(() => {
      for (const [key, state] of states)
        this.ctx.storage.sql.exec("INSERT OR REPLACE INTO visitors VALUES (?, ?)", key, encodeVisitor(state));
    });
  }
}
