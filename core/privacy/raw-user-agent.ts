/**
 * The archive forgets raw user agents (issue #17): once a UTC day is older than RAW_USER_AGENT_DAYS
 * (plus a day of grace for events still in the queue), every hour of it — each property's own and
 * the pooled files — is rewritten without `user_agent` (core/archive/rewrite.ts), keeping the
 * parsed browser, OS and device. Progress is one small object in the archive
 * (`_privacy/raw-user-agent.json`: the day being worked on and the last partition done in it), so a
 * day is passed once, a run cut short by its deadline resumes where it stopped, and a partition
 * rewritten twice after a crash costs only reads (the edit then changes nothing).
 * Events that arrive for a day already passed come without a raw user agent: enrichment drops it
 * for events older than the same days (core/enrich/enrich.ts `rawUserAgentSince`).
 */
import { z } from "zod";
import { ARCHIVE_EVENTS_PREFIX, type ArchivePartition, type ArchiveRecord } from "../archive/layout.ts";
import type { ArchiveCodec } from "../archive/parquet.ts";
import { type RecordEdit, rewriteArchiveHour } from "../archive/rewrite.ts";
import { type ArchiveStore, listAll } from "../archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../event.ts";
import { DAY_MS } from "../time.ts";

export const RAW_USER_AGENT_PROGRESS_KEY = "_privacy/raw-user-agent.json";
/** Days past RAW_USER_AGENT_DAYS before a day is passed: events of it may still be in the queue. */
export const RAW_USER_AGENT_GRACE_DAYS = 1;

export const RawUserAgentProgressSchema = z.strictObject({
  version: z.literal(1),
  /** The UTC day (epoch ms) being worked on: every day before it is done. */
  day: z.number().int(),
  /** The last partition done within `day` (`<property_id>/<hour>`, in work order), or null. */
  after: z.string().nullable(),
});
export type RawUserAgentProgress = z.infer<typeof RawUserAgentProgressSchema>;

/** The record without its raw user agent; the same record when it has none. */
export const dropRawUserAgent: RecordEdit = (record: ArchiveRecord) => {
  if (record.user_agent === undefined) return record;
  const { user_agent: _, ...rest } = record;
  return rest;
};

/** Days before this one (epoch ms, a UTC midnight) are due: each lies wholly before now − (days + grace). */
export function dueBefore(now: number, rawUserAgentDays: number): number {
  const cut = now - (rawUserAgentDays + RAW_USER_AGENT_GRACE_DAYS) * DAY_MS;
  return Math.floor(cut / DAY_MS) * DAY_MS;
}

/** A day's partitions that hold files, as `<property_id>/<hour>` in work order. */
async function dayWork(store: ArchiveStore, properties: readonly string[], day: number): Promise<string[]> {
  const dt = new Date(day).toISOString().slice(0, 10);
  const work = new Set<string>();
  for (const property of [...new Set([...properties, POOLED_ARCHIVE_ID])]) {
    for (const object of await listAll(store, `${ARCHIVE_EVENTS_PREFIX}property_id=${property}/dt=${dt}/`)) {
      const hour = /\/hour=(\d{2})\//.exec(object.key)?.[1];
      if (hour) work.add(`${property}/${hour}`);
    }
  }
  return [...work].sort();
}

export interface RawUserAgentReport {
  days_done: number;
  partitions: number;
  files_rewritten: number;
  rows_changed: number;
  /** Where the next run starts. */
  progress: RawUserAgentProgress;
  errors: string[];
}

async function readProgress(store: ArchiveStore): Promise<RawUserAgentProgress | null> {
  const object = await store.get(RAW_USER_AGENT_PROGRESS_KEY);
  return object ? RawUserAgentProgressSchema.parse(JSON.parse(new TextDecoder().decode(object.body))) : null;
}

async function saveProgress(store: ArchiveStore, progress: RawUserAgentProgress): Promise<void> {
  await store.put(RAW_USER_AGENT_PROGRESS_KEY, new TextEncoder().encode(JSON.stringify(progress)));
}

/**
 * Passes every due day from the saved progress on (or from `start`, the archive's oldest day, on
 * the first run) until the deadline. A partition that fails stops the run there; the next resumes.
 */
export async function expireRawUserAgents(
  store: ArchiveStore,
  codec: ArchiveCodec,
  properties: readonly string[],
  options: { now: () => number; deadline: number; rawUserAgentDays: number; start: () => Promise<number | null> },
): Promise<RawUserAgentReport> {
  const end = dueBefore(options.now(), options.rawUserAgentDays);
  const saved = await readProgress(store);
  const first = saved ? null : await options.start();
  let progress = saved ?? { version: 1 as const, day: Math.floor((first ?? end) / DAY_MS) * DAY_MS, after: null };
  const report: RawUserAgentReport = {
    days_done: 0,
    partitions: 0,
    files_rewritten: 0,
    rows_changed: 0,
    progress,
    errors: [],
  };
  const stop = async () => {
    report.progress = progress;
    if (JSON.stringify(progress) !== JSON.stringify(saved)) await saveProgress(store, progress);
    return report;
  };
  while (progress.day < end) {
    if (options.now() >= options.deadline) return stop();
    const dt = new Date(progress.day).toISOString().slice(0, 10);
    for (const item of await dayWork(store, properties, progress.day)) {
      if (progress.after !== null && item <= progress.after) continue;
      if (options.now() >= options.deadline) return stop();
      const [property_id = "", hour = ""] = item.split("/");
      const partition: ArchivePartition = { property_id, dt, hour };
      try {
        const result = await rewriteArchiveHour(store, codec, partition, dropRawUserAgent, { now: options.now() });
        report.files_rewritten += result.files_rewritten;
        report.rows_changed += result.rows_changed;
      } catch (error) {
        report.errors.push(`${item} on ${dt}: ${error instanceof Error ? `${error.name}: ${error.message}` : error}`);
        return stop();
      }
      report.partitions++;
      progress = { ...progress, after: item };
    }
    progress = { version: 1, day: progress.day + DAY_MS, after: null };
    report.days_done++;
  }
  return stop();
}
