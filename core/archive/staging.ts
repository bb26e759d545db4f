/**
 * The archive's one hand-off (issue #14): the events consumer writes each batch it receives as one
 * staging Parquet file — every property, `property_id` a column — before anything acts on the
 * batch, so an event is archived before it is live, never the reverse. One object per consumer
 * batch replaces the archive queue and the file per property-hour per batch it used to cost.
 *
 * A scheduled split then turns closed staging files into the per-property-hour layout
 * (core/archive/layout.ts): a chunk of staging files becomes one batch file per property-hour it
 * spans with enough rows, and one per hour pooling the small ones (`property_id=tally-pooled`),
 * named from the staging keys, plus the pending markers compaction follows; the staging files are
 * deleted last. A crash anywhere leaves every event readable once or twice, never zero times,
 * and copies are collapsed by `event_id` (compaction keeps one; replay reads with dedupeRecords).
 *
 *   _staging/batch-<id>.parquet                             one consumer batch's events, id from its message ids
 *   events/property_id=tally-pooled/dt=…/hour=…/…           small property-hours of an hour, pooled
 */

import { POOLED_ARCHIVE_ID } from "../event.ts";
import { type ArchiveGroup, type ArchiveMessage, encodeGroup, PendingMarks, storeGroup } from "./batch.ts";
import { type ArchivePartition, type ArchiveRecord, deterministicId, partitionOf, toArchiveRecord } from "./layout.ts";
import { type ArchiveCodec, compareRecords, decodeArchiveFile, encodeArchiveFile } from "./parquet.ts";
import { type ArchiveObject, type ArchiveStore, listAll } from "./store.ts";

export const STAGING_PREFIX = "_staging/";

/** A staging file's key: the same messages give the same key, so a redelivered batch overwrites its own file. */
export async function stagingKey(messageIds: readonly string[]): Promise<string> {
  return `${STAGING_PREFIX}batch-${await deterministicId(messageIds)}.parquet`;
}

/** Every event of the messages as archive records, in archive order. */
export function stagingRecords(messages: readonly ArchiveMessage[]): ArchiveRecord[] {
  return messages
    .flatMap(({ body }) => body.events.map((e) => toArchiveRecord(e, body.received_at)))
    .sort((a, b) => (a.property_id < b.property_id ? -1 : a.property_id > b.property_id ? 1 : compareRecords(a, b)));
}

/** The staging file of a batch: its key and bytes. Throws only on data the encoder refuses. */
export async function encodeStaging(
  messages: readonly ArchiveMessage[],
  codec: ArchiveCodec,
): Promise<{ key: string; bytes: Uint8Array; events: number }> {
  const ids = messages.map((m) => m.id).sort();
  const records = stagingRecords(messages);
  const bytes = encodeArchiveFile(records, codec, { metadata: { "tally.archive.messages": ids.join(",") } });
  return { key: await stagingKey(ids), bytes, events: records.length };
}

/**
 * The staging file of the messages the encoder accepts. When it refuses the batch, each message is
 * tried alone and the ones at fault are named, so only they are retried and the rest go on.
 */
export async function encodeStagingIsolating(
  messages: readonly ArchiveMessage[],
  codec: ArchiveCodec,
): Promise<{ file?: { key: string; bytes: Uint8Array; events: number }; accepted: string[]; refused: string[] }> {
  try {
    return { file: await encodeStaging(messages, codec), accepted: messages.map((m) => m.id), refused: [] };
  } catch (error) {
    if (messages.length === 1) return { accepted: [], refused: [messages[0]?.id ?? ""] };
    const refused: string[] = [];
    for (const m of messages) {
      try {
        await encodeStaging([m], codec);
      } catch {
        refused.push(m.id);
      }
    }
    // Refused as a whole yet fine one by one: nothing to isolate, so the batch is retried.
    if (refused.length === 0) throw error;
    const rest = messages.filter((m) => !refused.includes(m.id));
    if (rest.length === 0) return { accepted: [], refused };
    return { file: await encodeStaging(rest, codec), accepted: rest.map((m) => m.id), refused };
  }
}

export interface SplitOptions {
  now?: () => number;
  /** Only staging files at least this old are split (0: all, as replay asks before it reads). */
  minAgeMs?: number;
  /** Rows per chunk of staging files, the memory bound of one step (as compaction's maxRowsPerFile). */
  maxRowsPerChunk?: number;
  /** Epoch ms after which no new chunk starts. */
  deadline?: number;
  /** A property-hour with fewer rows than this in a chunk goes to the hour's pooled file. */
  poolBelowRows?: number;
}

export const SPLIT_DEFAULTS = { minAgeMs: 2 * 60_000, maxRowsPerChunk: 25_000, poolBelowRows: 1_000 } as const;

export interface SplitReport {
  staging_files: number;
  /** Staging files left for the next run (deadline). */
  staging_left: number;
  rows: number;
  files_written: number;
}

/**
 * Groups records by property-hour, records in archive order; `sources` name the group's files.
 * Property-hours with fewer than `poolBelow` rows in the chunk go to their hour's pooled group
 * (POOLED_ARCHIVE_ID): at volume a chunk spans nearly every property, and a file per small group
 * would cost more R2 writes than the events are worth (docs/cost.md). Readers of a property-hour
 * read its own files and the pooled hour's, filtered (replay does).
 */
function groupRecords(
  records: readonly ArchiveRecord[],
  sources: readonly string[],
  poolBelow: number,
): ArchiveGroup[] {
  const byPartition = new Map<string, { partition: ArchivePartition; records: ArchiveRecord[] }>();
  for (const record of records) {
    const partition = partitionOf(record.property_id, record.event_timestamp);
    const name = `${partition.property_id}/${partition.dt}/${partition.hour}`;
    const group = byPartition.get(name);
    if (group) group.records.push(record);
    else byPartition.set(name, { partition, records: [record] });
  }
  const groups = new Map<string, ArchiveGroup>();
  for (const { partition, records: rows } of byPartition.values()) {
    const own = rows.length >= poolBelow ? partition : { ...partition, property_id: POOLED_ARCHIVE_ID };
    const name = `${own.property_id}/${own.dt}/${own.hour}`;
    const group = groups.get(name);
    if (group) group.records.push(...rows);
    else groups.set(name, { partition: own, messageIds: [...sources], records: [...rows] });
  }
  for (const group of groups.values()) group.records.sort(compareRecords);
  return [...groups.values()];
}

/** Splits one chunk: a batch file per property-hour (file, then marker), then the staging files go. */
async function splitChunk(
  store: ArchiveStore,
  codec: ArchiveCodec,
  chunk: readonly { key: string; records: ArchiveRecord[] }[],
  marks: PendingMarks,
  now: number,
  poolBelow: number,
): Promise<number> {
  const groups = groupRecords(
    chunk.flatMap((c) => c.records),
    chunk.map((c) => c.key),
    poolBelow,
  );
  for (const group of groups) await storeGroup(store, await encodeGroup(group, codec), marks, now);
  await store.delete(chunk.map((c) => c.key));
  return groups.length;
}

/** Splits every staging file old enough into the per-property-hour layout, oldest first, within the deadline. */
export async function splitStaging(
  store: ArchiveStore,
  codec: ArchiveCodec,
  options: SplitOptions = {},
): Promise<SplitReport> {
  const { now = Date.now, minAgeMs, maxRowsPerChunk, deadline, poolBelowRows } = { ...SPLIT_DEFAULTS, ...options };
  const due = (await listAll(store, STAGING_PREFIX))
    .filter((o: ArchiveObject) => o.uploaded <= now() - minAgeMs)
    .sort((a, b) => a.uploaded - b.uploaded || (a.key < b.key ? -1 : 1));
  const report: SplitReport = { staging_files: due.length, staging_left: 0, rows: 0, files_written: 0 };
  const marks = new PendingMarks();
  let chunk: { key: string; records: ArchiveRecord[] }[] = [];
  let rows = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    report.files_written += await splitChunk(store, codec, chunk, marks, now(), poolBelowRows);
    report.rows += rows;
    chunk = [];
    rows = 0;
  };
  for (const [i, object] of due.entries()) {
    if (deadline !== undefined && now() >= deadline) {
      report.staging_left = due.length - i;
      break;
    }
    const file = await store.get(object.key);
    if (!file) continue;
    const records = await decodeArchiveFile(file.body, codec);
    if (rows > 0 && rows + records.length > maxRowsPerChunk) await flush();
    chunk.push({ key: object.key, records });
    rows += records.length;
  }
  await flush();
  return report;
}
