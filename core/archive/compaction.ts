/**
 * Compaction of closed hours: many small batch files become few compacted files and a manifest.
 *
 * An hour is compacted in steps (core/archive/compaction-step.ts: merge, write, verify, write the
 * manifest conditionally, delete the inputs), each write finished before the next begins.
 * The readable set of an hour (core/archive/layout.ts `liveFiles`) holds every event exactly once before
 * and after each write, so a crash anywhere leaves nothing lost or doubled, and a re-run converges:
 * sources still present are deleted, a compacted file no manifest names is an orphan (deleted once
 * older than `strayMinAgeMs`, so a concurrent run's fresh file is never taken), and the remaining
 * batch files are compacted again. Steps repeat until the hour has no batch files left, or the
 * deadline passes (the next run resumes).
 */

import { HOUR_MS } from "../time.ts";
import { compactStep, readManifest } from "./compaction-step.ts";
import {
  ARCHIVE_PENDING_PREFIX,
  type ArchivePartition,
  hourPrefix,
  hourStart,
  parsePendingKey,
  pendingKey,
} from "./layout.ts";
import type { ArchiveCodec } from "./parquet.ts";
import { planHour } from "./plan.ts";
import { type ArchiveStore, listAll } from "./store.ts";

export { CompactionConflictError, CompactionVerifyError } from "./compaction-step.ts";

export interface CompactionOptions {
  /** The clock: deadlines, file ages, `compacted_at`. */
  now?: () => number;
  /**
   * Rows per compacted file, the memory bound of a step: its decoded columns, the file and the
   * read-back. 25,000 rows of high-cardinality events stay within a 48 MB V8 heap (50,000 need
   * ~96 MB, too close to a Worker's 128 MB): bench/archive.ts and the commit measuring it.
   */
  maxRowsPerFile?: number;
  /** An orphaned compacted file is deleted only when older than this. */
  strayMinAgeMs?: number;
  /** An hour is closed (compacted) this long after it ends. */
  closedAfterMs?: number;
  /** Epoch ms after which no new step starts. */
  deadline?: number;
  log?: (line: string) => void;
}

export const COMPACTION_DEFAULTS = {
  maxRowsPerFile: 25_000,
  strayMinAgeMs: HOUR_MS,
  closedAfterMs: 5 * 60_000,
} as const;

export interface HourResult {
  partition: ArchivePartition;
  /** True when no batch file is left to merge. */
  done: boolean;
  steps: number;
  files_merged: number;
  rows_written: number;
  duplicates_dropped: number;
  files_deleted: number;
}

type Settings = Required<Omit<CompactionOptions, "deadline" | "log">> & Pick<CompactionOptions, "deadline" | "log">;

function settings(options: CompactionOptions): Settings {
  return { ...COMPACTION_DEFAULTS, now: Date.now, ...options };
}

/** Compacts one hour until no batch file is left or the deadline passes. */
export async function compactHour(
  store: ArchiveStore,
  codec: ArchiveCodec,
  partition: ArchivePartition,
  options: CompactionOptions = {},
): Promise<HourResult> {
  const s = settings(options);
  const result: HourResult = {
    partition,
    done: false,
    steps: 0,
    files_merged: 0,
    rows_written: 0,
    duplicates_dropped: 0,
    files_deleted: 0,
  };
  const seen = new Set<string>();
  for (;;) {
    const listing = await listAll(store, hourPrefix(partition));
    const state = await readManifest(store, partition);
    const plan = planHour(listing, state.manifest, s.now(), s);
    if (plan.deletable.length > 0) {
      await store.delete(plan.deletable);
      result.files_deleted += plan.deletable.length;
    }
    if (plan.live.length === 0) {
      result.done = true;
      return result;
    }
    if (s.deadline !== undefined && s.now() >= s.deadline) return result;
    const step = await compactStep(store, codec, partition, state, plan, s, seen);
    result.steps++;
    result.files_merged += step.files;
    result.rows_written += step.rows;
    result.duplicates_dropped += step.dropped;
    result.files_deleted += step.files;
  }
}

/**
 * Clears an hour's pending marker, then puts it back if the hour still has work: a batch file that
 * landed meanwhile, or an orphan to delete later. Deleting before looking means a consumer's write
 * either is seen here or re-creates the marker after this delete (it writes its file first).
 */
async function settleMarker(store: ArchiveStore, partition: ArchivePartition, s: Settings): Promise<boolean> {
  await store.delete([pendingKey(partition)]);
  const listing = await listAll(store, hourPrefix(partition));
  const { manifest } = await readManifest(store, partition);
  const plan = planHour(listing, manifest, s.now(), s);
  const pending = plan.live.length + plan.deletable.length + plan.youngStrays.length > 0;
  if (pending) await store.put(pendingKey(partition), new Uint8Array(0));
  return pending;
}

export interface CompactionReport {
  hours_pending: number;
  hours_closed: number;
  hours_done: number;
  /** Closed hours left for the next run (deadline, conflict or error). */
  hours_left: number;
  files_merged: number;
  rows_written: number;
  duplicates_dropped: number;
  files_deleted: number;
  errors: string[];
}

/** Compacts every closed hour that has a pending marker, oldest first, within the deadline. */
export async function compactPending(
  store: ArchiveStore,
  codec: ArchiveCodec,
  options: CompactionOptions = {},
): Promise<CompactionReport> {
  const s = settings(options);
  const markers = await listAll(store, ARCHIVE_PENDING_PREFIX);
  const closed = markers
    .map((m) => parsePendingKey(m.key))
    .filter((p): p is ArchivePartition => p !== null && hourStart(p) + HOUR_MS + s.closedAfterMs <= s.now())
    .sort((a, b) => hourStart(a) - hourStart(b) || (a.property_id < b.property_id ? -1 : 1));
  const report: CompactionReport = {
    hours_pending: markers.length,
    hours_closed: closed.length,
    hours_done: 0,
    hours_left: 0,
    files_merged: 0,
    rows_written: 0,
    duplicates_dropped: 0,
    files_deleted: 0,
    errors: [],
  };
  for (const partition of closed) {
    if (s.deadline !== undefined && s.now() >= s.deadline) {
      report.hours_left++;
      continue;
    }
    try {
      const hour = await compactHour(store, codec, partition, s);
      report.files_merged += hour.files_merged;
      report.rows_written += hour.rows_written;
      report.duplicates_dropped += hour.duplicates_dropped;
      report.files_deleted += hour.files_deleted;
      if (hour.done && !(await settleMarker(store, partition, s))) report.hours_done++;
      else report.hours_left++;
    } catch (error) {
      report.hours_left++;
      const message = `${hourPrefix(partition)}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      report.errors.push(message);
      s.log?.(`archive compaction failed for ${message}`);
    }
  }
  return report;
}
