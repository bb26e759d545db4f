/**
 * One compaction step of an hour, each write finished before the next begins:
 *   1. read up to `maxRowsPerFile` rows from batch files (and the hour's small compacted files),
 *      drop repeated event ids, sort;
 *   2. write `compacted-<id of the inputs>.parquet`;
 *   3. verify it: read it back, compare the bytes' SHA-256, the row count and the records' checksum;
 *   4. write the manifest naming the new file and, as `sources`, the inputs — conditionally on the
 *      manifest version read in step 1, so two overlapping runs cannot overwrite each other;
 *   5. delete the inputs.
 * The run loop that repeats steps and converges after a crash is core/archive/compaction.ts.
 */

import { sha256Hex } from "../hash.ts";
import {
  type ArchiveManifest,
  ArchiveManifestSchema,
  type ArchivePartition,
  buildManifest,
  compactedFileKey,
  deterministicId,
  type ManifestFile,
  manifestKey,
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
import { dedupeOrder, type HourPlan, rowKeys } from "./plan.ts";
import type { ArchiveStore } from "./store.ts";

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

/** An hour's manifest as stored, with the version a conditional write must match. */
export interface ManifestState {
  manifest: ArchiveManifest | null;
  etag: string | null;
}

/** The hour's manifest and its etag; both null before the first step wrote one. */
export async function readManifest(store: ArchiveStore, partition: ArchivePartition): Promise<ManifestState> {
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
    for (const key of rowKeys(read.columns)) seen.delete(key);
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

/** What one step did: the files it merged (and then deleted), the rows it wrote, the repeats it dropped. */
export interface StepResult {
  files: number;
  rows: number;
  dropped: number;
}

/** One step: steps 1–5 of the module comment over the first chunk of the plan. */
export async function compactStep(
  store: ArchiveStore,
  codec: ArchiveCodec,
  partition: ArchivePartition,
  state: ManifestState,
  plan: HourPlan,
  s: { maxRowsPerFile: number; now: () => number },
  seen: Set<string>,
): Promise<StepResult> {
  // Phases in functions of their own, so the decoded rows are garbage before the file is read back:
  // at most one copy of a step's rows is alive at a time (the Worker has 128 MB).
  const { inputs, dropped, encoded } = await (async () => {
    const merged = await mergeInputs(store, codec, plan, s.maxRowsPerFile, seen);
    if (seen.size < MAX_SEEN_IDS) for (const key of rowKeys(merged.columns)) seen.add(key);
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
  return { files: inputs.length, rows: encoded.file.rows, dropped };
}
