/**
 * Queue "archive" ─► Parquet files in R2 (or an S3-compatible store): the event log (issue #7).
 *
 * The archive has its own queue, so a ClickHouse outage never makes it rewrite files and a storage
 * outage never holds back ClickHouse. Each batch becomes one file per property and hour
 * (core/archive/batch.ts), keyed by the ids of the messages in it, so a redelivered batch overwrites
 * its own files. Every message is acked or retried on its own: a message that does not match the
 * schema is retried until it rests in `archive-dlq`; a group the encoder refuses is split into one
 * file per message, so only the message at fault is retried; a failed write retries the messages
 * of that group alone.
 */
import {
  type ArchiveGroup,
  type ArchiveMessage,
  type EncodedGroup,
  encodeGroup,
  groupMessages,
  PendingMarks,
  storeGroup,
} from "../core/archive/batch.ts";
import type { ArchiveCodec } from "../core/archive/parquet.ts";
import type { ArchiveStore } from "../core/archive/store.ts";
import { decodeEventsMessage } from "../core/ingest/queue-message.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { backoffSeconds } from "./backoff.ts";

/** Open hours this isolate has marked pending already, per store (one marker write per property and hour). */
const marksByStore = new WeakMap<ArchiveStore, PendingMarks>();

/** Parallel writes per batch; a Worker keeps at most 6 connections open. */
const WRITE_CONCURRENCY = 6;

async function inPool<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await run(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function samePartition(a: ArchiveGroup["partition"], b: ArchiveGroup["partition"]): boolean {
  return a.property_id === b.property_id && a.dt === b.dt && a.hour === b.hour;
}

/** A group's events split by the message they came from. */
function splitByMessage(group: ArchiveGroup, messages: ReadonlyMap<string, ArchiveMessage>): ArchiveGroup[] {
  return group.messageIds.flatMap((id) => {
    const message = messages.get(id);
    return message ? groupMessages([message]).filter((g) => samePartition(g.partition, group.partition)) : [];
  });
}

/** Encodes a group, or — when the encoder refuses it — each of its messages' events alone. */
async function encodeOrSplit(
  group: ArchiveGroup,
  messages: ReadonlyMap<string, ArchiveMessage>,
  codec: ArchiveCodec,
  failed: Set<string>,
): Promise<EncodedGroup[]> {
  try {
    return [await encodeGroup(group, codec)];
  } catch (error) {
    if (group.messageIds.length === 1) {
      console.error(`archive: message ${group.messageIds[0]} cannot be encoded; retrying`, error);
      for (const id of group.messageIds) failed.add(id);
      return [];
    }
    const out: EncodedGroup[] = [];
    for (const single of splitByMessage(group, messages))
      out.push(...(await encodeOrSplit(single, messages, codec, failed)));
    return out;
  }
}

/** Delivers one batch to the store, acking or retrying each message. */
export async function deliverArchiveBatch(
  messages: readonly Message<unknown>[],
  store: ArchiveStore,
  codec: ArchiveCodec,
): Promise<void> {
  const parsed = new Map<string, ArchiveMessage>();
  for (const message of messages) {
    const result = decodeEventsMessage(message.body);
    if (result.success) parsed.set(message.id, { id: message.id, body: result.data });
    else {
      // Kept, not dropped: after max_retries it rests in archive-dlq for inspection.
      console.error(`archive message ${message.id} does not match the schema`, result.error.issues.slice(0, 3));
      message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    }
  }
  if (parsed.size === 0) return;
  const failed = new Set<string>();
  const marks = marksByStore.get(store) ?? new PendingMarks();
  marksByStore.set(store, marks);
  let files = 0;
  let bytes = 0;
  await inPool(groupMessages([...parsed.values()]), WRITE_CONCURRENCY, async (group) => {
    for (const item of await encodeOrSplit(group, parsed, codec, failed)) {
      try {
        await storeGroup(store, item, marks);
        files++;
        bytes += item.bytes.byteLength;
      } catch (error) {
        console.error(
          `archive: writing ${item.key} failed; retrying its ${item.group.messageIds.length} messages`,
          error,
        );
        for (const id of item.group.messageIds) failed.add(id);
      }
    }
  });
  let events = 0;
  for (const message of messages) {
    const body = parsed.get(message.id)?.body;
    if (!body) continue;
    events += body.events.length;
    if (failed.has(message.id)) message.retry({ delaySeconds: backoffSeconds(message.attempts) });
    else message.ack();
  }
  // One line per batch, like the events consumer's: what the archive path costs.
  console.log(
    JSON.stringify({
      tally_metric: "archive_batch",
      messages: messages.length,
      events,
      files,
      bytes,
      retried: messages.length - parsed.size + failed.size,
    }),
  );
}

/** The Worker's `queue` handler for the archive queue(s). */
export async function handleArchiveBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  await deliverArchiveBatch(batch.messages, await archiveStore(env), zstdCodec);
}
