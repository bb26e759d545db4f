/**
 * The archive forgets by event time (issue #17): every file of a UTC day that lies wholly before
 * ARCHIVE_RETENTION_DAYS is deleted — each property's own hours, the pooled ones and their pending
 * markers — as ClickHouse's TTLs and the warehouse's retention delete the same events. The bucket's
 * lifecycle rule (core/archive/layout.ts archiveLifecycleRules) counts from each object's last
 * write instead, and compaction, erasure and the raw-user-agent pass rewrite objects: on its own it
 * would keep a rewritten hour up to a month longer. (Events imported for a day already deleted are
 * kept until the lifecycle rule takes them: the period after their import.) Progress is one
 * object (`_privacy/retention.json`: the first day not yet done), so a day is deleted once and a
 * run stopped by its deadline resumes; deleting again is harmless.
 */
import { z } from "zod";
import { ARCHIVE_EVENTS_PREFIX, ARCHIVE_PENDING_PREFIX } from "../archive/layout.ts";
import { type ArchiveStore, listAll } from "../archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../event.ts";
import { DAY_MS } from "../time.ts";

export const ARCHIVE_RETENTION_PROGRESS_KEY = "_privacy/retention.json";

export const ArchiveRetentionProgressSchema = z.strictObject({
  version: z.literal(1),
  /** The first UTC day (epoch ms) not yet deleted: every day before it is gone. */
  day: z.number().int(),
});

/** Days before this one (a UTC midnight) lie wholly before now − retentionDays. */
export function retentionDueBefore(now: number, retentionDays: number): number {
  return Math.floor((now - retentionDays * DAY_MS) / DAY_MS) * DAY_MS;
}

export interface ArchiveRetentionReport {
  days_done: number;
  objects_deleted: number;
  /** The first day the next run looks at. */
  day: number;
}

/** Deletes every due day's files from the saved progress on (or from `start`, the oldest archived day). */
export async function deleteExpiredArchiveDays(
  store: ArchiveStore,
  properties: readonly string[],
  options: { now: () => number; deadline: number; retentionDays: number; start: () => Promise<number | null> },
): Promise<ArchiveRetentionReport> {
  const end = retentionDueBefore(options.now(), options.retentionDays);
  const saved = await store.get(ARCHIVE_RETENTION_PROGRESS_KEY);
  let day = saved
    ? ArchiveRetentionProgressSchema.parse(JSON.parse(new TextDecoder().decode(saved.body))).day
    : Math.floor(((await options.start()) ?? end) / DAY_MS) * DAY_MS;
  const first = day;
  const report: ArchiveRetentionReport = { days_done: 0, objects_deleted: 0, day };
  const owners = [...new Set([...properties, POOLED_ARCHIVE_ID])];
  while (day < end && options.now() < options.deadline) {
    const dt = new Date(day).toISOString().slice(0, 10);
    for (const owner of owners) {
      const path = `property_id=${owner}/dt=${dt}/`;
      const keys = [
        ...(await listAll(store, `${ARCHIVE_EVENTS_PREFIX}${path}`)),
        ...(await listAll(store, `${ARCHIVE_PENDING_PREFIX}${path}`)),
      ].map((o) => o.key);
      // The pending markers last: compaction never finds a marker whose files are gone.
      for (let i = 0; i < keys.length; i += 1000) await store.delete(keys.slice(i, i + 1000));
      report.objects_deleted += keys.length;
    }
    day += DAY_MS;
    report.days_done++;
  }
  report.day = day;
  if (day !== first || !saved)
    await store.put(ARCHIVE_RETENTION_PROGRESS_KEY, new TextEncoder().encode(JSON.stringify({ version: 1, day })));
  return report;
}
