/**
 * Hands accepted events to the queues: `archive` (the Parquet event log, issue #7) and `events`
 * (the live path). Events are packed into ≤ 64 KB messages (one billed operation each) and sharded
 * by property over EVENTS_QUEUE_SHARDS queues of each kind, since one Cloudflare queue carries about
 * 5,000 messages/s (README "Scale"); both kinds carry the same messages.
 */
import type { Event } from "../../core/event.ts";
import { packMessages } from "../../core/ingest/queue-message.ts";

/** sendBatch takes ≤ 256 KB: three messages of ≤ 64 KB (MAX_MESSAGE_BYTES) and their framing fit. */
const MESSAGES_PER_SEND = 3;

/** FNV-1a: a stable, cheap spread of property ids over shards. */
export function shardOf(propertyId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < propertyId.length; i++) {
    h ^= propertyId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

type QueueKind = "EVENTS_QUEUE" | "ARCHIVE_QUEUE";

function queueFor(env: Env, kind: QueueKind, shard: number): Queue {
  if (shard === 0) return env[kind];
  const queue = (env as unknown as Record<string, Queue | undefined>)[`${kind}_${shard}`];
  if (!queue) throw new Error(`EVENTS_QUEUE_SHARDS names shard ${shard}, but binding ${kind}_${shard} is missing`);
  return queue;
}

/** Queues every event on both queues; resolves only when both have them all. */
export async function enqueueEvents(
  env: Env,
  shards: number,
  events: readonly Event[],
  receivedAt: number,
): Promise<void> {
  const byShard = new Map<number, Event[]>();
  for (const e of events) {
    const shard = shards === 1 ? 0 : shardOf(e.property_id, shards);
    const group = byShard.get(shard);
    if (group) group.push(e);
    else byShard.set(shard, [e]);
  }
  const batches: { shard: number; batch: MessageSendRequest[] }[] = [];
  for (const [shard, group] of byShard) {
    const messages = packMessages(group, receivedAt);
    for (let i = 0; i < messages.length; i += MESSAGES_PER_SEND) {
      const batch = messages
        .slice(i, i + MESSAGES_PER_SEND)
        .map((json): MessageSendRequest => ({ body: json, contentType: "text" }));
      batches.push({ shard, batch });
    }
  }
  // The archive, the source of truth, first; the live path only once it holds the events. Either
  // send can fail after the other succeeded; the caller then answers 503 and the client retries with
  // the same event_ids. That is safe both ways: a second archive copy is collapsed by compaction
  // (one row per event_id), and a second live copy is recognised by the session actors, which mark
  // it a repeat so the consumer does not insert it again. The order decides what happens when the
  // client never retries: an event may then be archived and not live (replay restores it), but
  // never live and missing from the archive.
  await Promise.all(batches.map(({ shard, batch }) => queueFor(env, "ARCHIVE_QUEUE", shard).sendBatch(batch)));
  await Promise.all(batches.map(({ shard, batch }) => queueFor(env, "EVENTS_QUEUE", shard).sendBatch(batch)));
}
