/**
 * Rewrites one archive hour's readable files (core/archive/layout.ts `liveFiles`) through a
 * per-record edit: GDPR erasure drops a visitor's rows, the privacy pass blanks raw user agents.
 * Pooled hours (`property_id=tally-pooled`) are rewritten the same way; the edit sees each
 * record's own `property_id`.
 *
 * It follows compaction's rules (core/archive/compaction-step.ts), so a crash anywhere leaves each
 * event readable exactly once, edited or not, and a re-run converges:
 *   1. mark the hour pending (compaction then deletes what a crash leaves behind);
 *   2. for each changed file, write `compacted-<id>.parquet` with the edited rows and read it back;
 *      an unchanged file costs no write, and a file whose rows all go gets no successor;
 *   3. write the manifest naming the new files in the old ones' places and the old ones as
 *      `sources` — conditionally on the version read first, so an overlapping compaction or
 *      rewrite fails one side instead of losing its work;
 *   4. delete the old files.
 * Until step 3 the new files are unreferenced orphans, which no reader counts; after it the old
 * ones are sources, which no reader counts either.
 */

import { sha256Hex } from "../hash.ts";
import { COMPACTION_DEFAULTS } from "./compaction.ts";
import { readManifest } from "./compaction-step.ts";
import {
  ARCHIVE_COLUMNS,
  type ArchiveColumn,
  type ArchivePartition,
  type ArchiveRecord,
  buildManifest,
  compactedFileKey,
  deterministicId,
  fileKind,
  hourPrefix,
  liveFiles,
  type ManifestFile,
  manifestKey,
  pendingKey,
} from "./layout.ts";
import {
  type ArchiveCodec,
  type ArchiveColumns,
  archiveFileRows,
  columnsChecksum,
  decodeArchiveColumns,
  encodeArchiveColumns,
  selectRows,
} from "./parquet.ts";
import { planHour } from "./plan.ts";
import { type ArchiveStore, listAll } from "./store.ts";

/**
 * Returns the record unchanged (same object), a changed copy, or null to drop it. A copy must keep
 * `event_id`, `property_id` and `event_timestamp`: they place the row in its file and hour.
 */
export type RecordEdit = (record: ArchiveRecord) => ArchiveRecord | null;

export interface RewriteResult {
  files_read: number;
  files_rewritten: number;
  rows_dropped: number;
  rows_changed: number;
}

/** The manifest changed, or a file vanished, while rewriting: another run works on the hour. Re-run. */
export class RewriteConflictError extends Error {
  override name = "RewriteConflictError";
}

const COLUMN_NAMES = Object.keys(ARCHIVE_COLUMNS) as ArchiveColumn[];
const FIXED: readonly ArchiveColumn[] = ["event_id", "property_id", "event_timestamp"];

/** Row `i` as a record, absent optional fields left out (as decodeArchiveFile gives them). */
function recordAt(columns: ArchiveColumns, i: number): ArchiveRecord {
  const record: Record<string, unknown> = {};
  for (const name of COLUMN_NAMES) {
    const value = columns[name][i];
    if (value !== null && value !== undefined) record[name] = value;
  }
  return record as ArchiveRecord;
}

interface Edited {
  columns: ArchiveColumns;
  rows: number;
  dropped: number;
  changed: number;
}

/**
 * The edit over a file's rows, one record object alive at a time (a compacted file holds 25,000
 * rows; records for all of them would not fit beside the columns in a Worker). Changed values are
 * written back into the columns in place.
 */
function applyEdit(key: string, columns: ArchiveColumns, rows: number, edit: RecordEdit): Edited {
  const kept: number[] = [];
  let changed = 0;
  for (let i = 0; i < rows; i++) {
    const record = recordAt(columns, i);
    const out = edit(record);
    if (out === null) continue;
    kept.push(i);
    if (out === record) continue;
    for (const name of FIXED)
      if (out[name] !== record[name]) throw new Error(`${key}: a record edit may not change ${name}`);
    for (const name of COLUMN_NAMES) columns[name][i] = (out as Record<string, unknown>)[name] ?? null;
    changed++;
  }
  const dropped = rows - kept.length;
  if (dropped === 0) return { columns, rows, dropped, changed };
  return { columns: selectRows(columns, kept), rows: kept.length, dropped, changed };
}

/** Step 2 for one file: the edited rows written, read back and described; null when all rows went. */
async function writeSuccessor(
  store: ArchiveStore,
  codec: ArchiveCodec,
  partition: ArchivePartition,
  oldKey: string,
  edited: Edited,
): Promise<ManifestFile | null> {
  if (edited.rows === 0) return null;
  const checksum = await columnsChecksum(edited.columns);
  // Named from the old file and the new content: a re-run with the same edit rewrites the same key
  // with the same bytes, and a different edit can never overwrite a file a manifest names.
  const key = compactedFileKey(partition, await deterministicId(["rewrite", oldKey, checksum]));
  const bytes = encodeArchiveColumns(edited.columns, edited.rows, codec, {
    metadata: { "tally.archive.rewritten_from": oldKey },
  });
  const sha256 = await sha256Hex(bytes);
  await store.put(key, bytes);
  const back = await store.get(key);
  if (!back || (await sha256Hex(back.body)) !== sha256 || archiveFileRows(back.body) !== edited.rows)
    throw new RewriteConflictError(`${key} did not read back as written`);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const t of edited.columns.event_timestamp as number[]) {
    min = Math.min(min, t);
    max = Math.max(max, t);
  }
  return {
    key,
    rows: edited.rows,
    bytes: bytes.byteLength,
    sha256,
    checksum,
    min_event_timestamp: min,
    max_event_timestamp: max,
  };
}

/**
 * Rewrites one hour's readable files (batch and compacted) through `edit`, crash-safe (see the
 * module comment). Writes nothing when the edit changes no record. Throws RewriteConflictError when
 * another run changed the hour meanwhile; nothing is lost then, and a re-run finishes the work.
 */
export async function rewriteArchiveHour(
  store: ArchiveStore,
  codec: ArchiveCodec,
  partition: ArchivePartition,
  edit: RecordEdit,
  options: { now?: number } = {},
): Promise<RewriteResult> {
  const now = options.now ?? Date.now();
  const result: RewriteResult = { files_read: 0, files_rewritten: 0, rows_dropped: 0, rows_changed: 0 };
  const listing = await listAll(store, hourPrefix(partition));
  const state = await readManifest(store, partition);
  // What an earlier run (a rewrite or compaction) left after its manifest write: delete it first.
  const leftovers = planHour(listing, state.manifest, now, COMPACTION_DEFAULTS).deletable;
  if (leftovers.length > 0) await store.delete(leftovers);

  const replaced = new Map<string, ManifestFile | null>();
  let marked = false;
  for (const key of liveFiles(
    listing.map((o) => o.key),
    state.manifest,
  )) {
    const object = await store.get(key);
    if (!object) throw new RewriteConflictError(`${key} vanished while rewriting`);
    const { rows, columns } = await decodeArchiveColumns(object.body, codec);
    result.files_read++;
    const edited = applyEdit(key, columns, rows, edit);
    if (edited.dropped === 0 && edited.changed === 0) continue;
    if (!marked) await store.put(pendingKey(partition), new Uint8Array(0));
    marked = true;
    replaced.set(key, await writeSuccessor(store, codec, partition, key, edited));
    result.files_rewritten++;
    result.rows_dropped += edited.dropped;
    result.rows_changed += edited.changed;
  }
  if (replaced.size === 0) return result;

  const kept = (state.manifest?.files ?? []).flatMap((f) => {
    const next = replaced.get(f.key);
    return next === undefined ? [f] : next === null ? [] : [next];
  });
  const fromBatches = [...replaced].flatMap(([key, next]) => (fileKind(key) === "batch" && next ? [next] : []));
  const sources = [...(state.manifest?.sources ?? []), ...replaced.keys()];
  const manifest = await buildManifest(partition, [...kept, ...fromBatches], sources, now);
  const written = await store.put(
    manifestKey(partition),
    new TextEncoder().encode(JSON.stringify(manifest)),
    state.etag ? { etagMatches: state.etag } : { absent: true },
  );
  if (!written) throw new RewriteConflictError(`${manifestKey(partition)} changed while rewriting`);
  await store.delete([...replaced.keys()]);
  return result;
}
