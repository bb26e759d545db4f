/**
 * Compaction of closed hours: many small batch files become few compacted files and a manifest.
 *
 * One step of an hour, each write finished before the next begins:
 *   1. read up to `maxRowsPerFile` rows from batch files (and the hour's small compacted files),
 *      drop repeated event ids, sort;
 *   2. write `compacted-<id of the inputs>.parquet`;
 *   3. verify it: read it back, compare the bytes' SHA-256, the row count and the records' checksum;
 *   4. write the manifest naming the new file and, as `sources`, the inputs — conditionally on the
 *      manifest version read in step 1, so two overlapping runs cannot overwrite each other;
 *   5. delete the inputs.
 * The readable set of an hour (core/archive/layout.ts `liveFiles`) holds every event exactly once before
 * and after each write, so a crash anywhere leaves nothing lost or doubled, and a re-run converges:
 * sources still present are deleted, a compacted file no manifest names is an orphan (deleted once
 * older than `strayMinAgeMs`, so a concurrent run's fresh file is never taken), and the remaining
 * batch files are compacted again. Steps repeat until the hour has no batch files left, or the
 * deadline passes (the next run resumes).
 */

import { sha256Hex } from "../hash.ts";
import { HOUR_MS } from "../time.ts";
import {
  ARCHIVE_PENDING_PREFIX,
  type ArchiveManifest,
  ArchiveManifestSchema,
  type ArchivePartition,
  buildManifest,
  compactedFileKey,
  deterministicId,
  hourPrefix,
  hourStart,
  type ManifestFile,
  manifestKey,
  parsePendingKey,
  pendingKey,
} from "./layout.ts";
import {
  type ArchiveCodec,
  type ArchiveColumns,
  columnsChecksum,
  concatColumns,
  decodeArchiveColumns,
  encodeArchiveColumns,
  selectRows,
} from "./parquet.ts";
import { dedupeOrder, type HourPlan, planHour } from "./plan.ts";
import { type ArchiveStore, listAll } from "./store.ts";

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

/**
 * Event ids one run remembers across the steps of an hour (~100 bytes each), so an event accepted
 * twice (a client retry after a partial enqueue failure) is written once even when its two copies
 * fall into different steps. Beyond this many the memory is not worth it: repeats across files can
 * then remain, and readers dedupe by event_id as the live sinks do.
 */
const MAX_SEEN_IDS = 200_000;

/** The manifest changed between reading and writing it: another run works on the hour. */
export class CompactionConflictError extends Error {
  override name = "CompactionConflictError";
}

/** A compacted file did not read back as written; nothing was deleted. */
export class CompactionVerifyError extends Error {
  override name = "CompactionVerifyError";
}

async function readManifest(
  store: ArchiveStore,
  partition: ArchivePartition,
): Promise<{ manifest: ArchiveManifest | null; etag: string | null }> {
  const object = await store.get(manifestKey(partition));
  if (!object) return { manifest: null, etag: null };
  const manifest = ArchiveManifestSchema.parse(JSON.parse(new TextDecoder().decode(object.body)));
  return { manifest, etag: object.etag };
}

async function readFile(
  store: ArchiveStore,
  key: string,
  codec: ArchiveCodec,
): Promise<{ rows: number; columns: ArchiveColumns }> {
  const object = await store.get(key);
  if (!object) throw new CompactionConflictError(`${key} vanished while compacting`);
  return decodeArchiveColumns(object.body, codec);
}

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

interface Merged {
  inputs: string[];
  columns: ArchiveColumns;
  rows: number;
  dropped: number;
}

/**
 * Step 1: the chunk's files read and merged — one row per event id, archive order. An event an
 * earlier step of this run wrote (a retry that landed in another batch file) is dropped too.
 */
async function mergeInputs(
  store: ArchiveStore,
  codec: ArchiveCodec,
  plan: HourPlan,
  maxRows: number,
  seen: Set<string>,
): Promise<Merged> {
  const inputs: string[] = [];
  const parts: ArchiveColumns[] = [];
  let total = 0;
  for (const file of plan.mergeable) {
    const read = await readFile(store, file.key, codec);
    // Rewritten here: their ids leave `seen` and come back with this step's file.
    for (const id of read.columns.event_id as string[]) seen.delete(id);
    parts.push(read.columns);
    total += read.rows;
    inputs.push(file.key);
  }
  let batches = 0;
  for (const key of plan.live) {
    if (batches > 0 && total >= maxRows) break;
    const read = await readFile(store, key, codec);
    parts.push(read.columns);
    total += read.rows;
    inputs.push(key);
    batches++;
  }
  const all = concatColumns(parts);
  parts.length = 0;
  const order = dedupeOrder(all, seen);
  return { inputs, columns: selectRows(all, order), rows: order.length, dropped: total - order.length };
}

interface Encoded {
  key: string;
  bytes: Uint8Array;
  file: ManifestFile;
}

/** Step 2's bytes, with what the manifest will say of them. */
async function encodeMerged(partition: ArchivePartition, codec: ArchiveCodec, merged: Merged): Promise<Encoded> {
  const key = compactedFileKey(partition, await deterministicId(merged.inputs));
  const bytes = encodeArchiveColumns(merged.columns, merged.rows, codec, {
    metadata: { "tally.archive.sources": String(merged.inputs.length) },
  });
  const times = merged.columns.event_timestamp as number[];
  const file: ManifestFile = {
    key,
    rows: merged.rows,
    bytes: bytes.byteLength,
    sha256: await sha256Hex(bytes),
    checksum: await columnsChecksum(merged.columns),
    min_event_timestamp: times[0] ?? 0,
    max_event_timestamp: times[merged.rows - 1] ?? 0,
  };
  return { key, bytes, file };
}

/** Step 3: the stored file read back — same bytes, same row count, same records' checksum. */
async function verify(store: ArchiveStore, codec: ArchiveCodec, { key, file }: Encoded): Promise<void> {
  const back = await store.get(key);
  if (!back || (await sha256Hex(back.body)) !== file.sha256) throw new CompactionVerifyError(`${key}: bytes differ`);
  const reread = await decodeArchiveColumns(back.body, codec);
  if (reread.rows !== file.rows || (await columnsChecksum(reread.columns)) !== file.checksum)
    throw new CompactionVerifyError(`${key}: rows or checksum differ`);
}

/** One step: steps 1–5 of the module comment over the first chunk of the plan. */
async function compactStep(
  store: ArchiveStore,
  codec: ArchiveCodec,
  partition: ArchivePartition,
  state: { manifest: ArchiveManifest | null; etag: string | null },
  plan: HourPlan,
  s: Settings,
  result: HourResult,
  seen: Set<string>,
): Promise<void> {
  // Phases in functions of their own, so the decoded rows are garbage before the file is read back:
  // at most one copy of a step's rows is alive at a time (the Worker has 128 MB).
  const { inputs, dropped, encoded } = await (async () => {
    const merged = await mergeInputs(store, codec, plan, s.maxRowsPerFile, seen);
    if (seen.size < MAX_SEEN_IDS) for (const id of merged.columns.event_id as string[]) seen.add(id);
    return { inputs: merged.inputs, dropped: merged.dropped, encoded: await encodeMerged(partition, codec, merged) };
  })();
  await store.put(encoded.key, encoded.bytes);
  await verify(store, codec, encoded);

  const merged = new Set(inputs);
  const files = [...(state.manifest?.files ?? []).filter((f) => !merged.has(f.key)), encoded.file];
  const next = await buildManifest(partition, files, [...(state.manifest?.sources ?? []), ...inputs], s.now());
  const body = new TextEncoder().encode(JSON.stringify(next));
  const written = await store.put(
    manifestKey(partition),
    body,
    state.etag ? { etagMatches: state.etag } : { absent: true },
  );
  if (!written) throw new CompactionConflictError(`${manifestKey(partition)} changed during compaction`);
  await store.delete(inputs);
  result.steps++;
  result.files_merged += inputs.length;
  result.rows_written += encoded.file.rows;
  result.duplicates_dropped += dropped;
  result.files_deleted += inputs.length;
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
    await compactStep(store, codec, partition, state, plan, s, result, seen);
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
