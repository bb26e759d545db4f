/**
 * Hands accepted events to the events queue. Events are packed into ≤ 64 KB messages (one billed
 * operation each) and sharded by property over EVENTS_QUEUE_SHARDS queues, since one Cloudflare
 * queue carries about 5,000 messages/s (README "Scale").
 */
import type { Event } from "../../core/event.ts";
import { packMessages } from "../../core/queue-message.ts";

/** sendBatch takes ≤ 100 messages and ≤ 256 KB; leave room for framing. */
const MAX_SEND_BYTES = 200_000;

/** FNV-1a: a stable, cheap spread of property ids over shards. */
export function shardOf(propertyId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < propertyId.length; i++) {
    h ^= propertyId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

function queueFor(env: Env, shard: number): Queue {
  if (shard === 0) return env.EVENTS_QUEUE;
  const queue = (env as unknown as Record<string, Queue | undefined>)[`EVENTS_QUEUE_${shard}`];
  if (!queue) throw new Error(`EVENTS_QUEUE_SHARDS names shard ${shard}, but binding EVENTS_QUEUE_${shard} is missing`);
  return queue;
}

/** Queues every event; resolves only when the queue has them all. */
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
  const sends: Promise<unknown>[] = [];
  for (const [shard, group] of byShard) {
    const messages = packMessages(group, receivedAt);
    let batch: MessageSendRequest[] = [];
    let bytes = 0;
    for (const body of messages) {
      const size = messages.length === 1 ? 0 : JSON.stringify(body).length;
      if (batch.length > 0 && (bytes + size > MAX_SEND_BYTES || batch.length === 100)) {
        sends.push(queueFor(env, shard).sendBatch(batch));
        batch = [];
        bytes = 0;
      }
      batch.push({ body, contentType: "json" });
      bytes += size;
    }
    if (batch.length > 0) sends.push(queueFor(env, shard).sendBatch(batch));
  }
  await Promise.all(sends);
}
