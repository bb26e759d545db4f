/**
 * The `events` queue as producers use it: property sharding over EVENTS_QUEUE_SHARDS bindings (one
 * Cloudflare queue carries ~5,000 messages/s, README "Scale") and a group-commit packer per binding
 * and producer kind (core/ingest/packer.ts). Two producers share it:
 * - the edge (workers/collect/queue.ts) when it sends itself: JSON text of ≤ 64 KB per message,
 *   packed over the requests one isolate sees in PACK_WINDOW_MS;
 * - the ingest stage (durable-objects/ingest-do.ts), which sees a location's requests: up to
 *   MAX_PACKED_BYTES of JSON per message, sent ZSTD-compressed (platform/queue-codec.ts).
 */
import { waitUntil } from "cloudflare:workers";
import type { Event } from "../core/event.ts";
import { Packer, type PackerOptions, type PackerTimers } from "../core/ingest/packer.ts";
import { MAX_PACKED_BYTES } from "../core/ingest/queue-message.ts";
import { compressedBodies, sendGroups } from "./queue-codec.ts";

/** FNV-1a: a stable, cheap spread of property ids over shards. */
export function shardOf(propertyId: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < propertyId.length; i++) {
    h ^= propertyId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shards;
}

export function queueFor(env: Env, shard: number): Queue {
  if (shard === 0) return env.EVENTS_QUEUE;
  const queue = (env as unknown as Record<string, Queue | undefined>)[`EVENTS_QUEUE_${shard}`];
  if (!queue) throw new Error(`EVENTS_QUEUE_SHARDS names shard ${shard}, but binding EVENTS_QUEUE_${shard} is missing`);
  return queue;
}

const timers: PackerTimers = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// NOTE: in workerd a promise must be settled in the request that created it: a continuation run
// from another request's I/O is dropped (or fails, under the test pool's
// no_handle_cross_request_promise_resolution) once that request has ended, and a request that only
// waits on another's promise is cancelled as hung. So the packer settles every promise in its own
// request, requests only wait on each other's promises, each flush is kept alive with waitUntil in
// the context that sends, and a request that joined someone else's window has a fallback: its own
// send after a bound (core/ingest/packer.ts).
function keepAlive(work: Promise<unknown>): void {
  try {
    waitUntil(work);
  } catch {
    // Outside a request (nothing to keep alive): the caller awaits the work anyway.
  }
}

export type PackingSettings = Partial<Pick<PackerOptions, "windowMs" | "fallbackMs" | "maxBytes">>;
export type Producer = "edge" | "ingest";

/** Per isolate (or actor): one packer per queue binding and producer kind. */
const packers = { edge: new WeakMap<Queue, Packer>(), ingest: new WeakMap<Queue, Packer>() };
const settings = new WeakMap<Queue, PackingSettings>();

function sender(queue: Queue, producer: Producer): PackerOptions["send"] {
  // Looked up at each send, not bound once: tests spy on the binding's method.
  if (producer === "edge")
    return (messages) => queue.sendBatch(messages.map((body): MessageSendRequest => ({ body, contentType: "text" })));
  // A message halved to fit 128 KB can make one send pass sendBatch's 256 KB: split the send.
  return (messages) =>
    Promise.all(
      sendGroups(messages.flatMap((text) => compressedBodies(text))).map((group) =>
        queue.sendBatch(group.map((body): MessageSendRequest => ({ body, contentType: "bytes" }))),
      ),
    );
}

function packerFor(queue: Queue, producer: Producer, windowMs?: number): Packer {
  let packer = packers[producer].get(queue);
  if (!packer) {
    packer = new Packer({
      send: sender(queue, producer),
      timers,
      keepAlive,
      ...(producer === "ingest" ? { maxBytes: MAX_PACKED_BYTES, messagesPerSend: 1 } : {}),
      ...(windowMs === undefined ? {} : { windowMs }),
      ...settings.get(queue),
    });
    packers[producer].set(queue, packer);
  }
  return packer;
}

/**
 * Packing settings for one queue binding (tests and bench/packing.ts; production keeps the
 * defaults). Call it while the queue is idle: a packer with an open window is replaced.
 */
export function configurePacking(queue: Queue, options?: PackingSettings): void {
  packers.edge.delete(queue);
  packers.ingest.delete(queue);
  if (options) settings.set(queue, options);
  else settings.delete(queue);
}

/**
 * Queues every event; resolves only when the events queue holds them all (a send carrying each
 * succeeded), rejects when a send carrying any failed; the caller then answers 503 and the client
 * retries with the same event_ids, which downstream recognises.
 */
export async function enqueueEvents(
  env: Env,
  shards: number,
  events: readonly Event[],
  receivedAt: number,
  producer: Producer = "edge",
  windowMs?: number,
): Promise<void> {
  if (shards === 1) return packerFor(env.EVENTS_QUEUE, producer, windowMs).enqueue(events, receivedAt);
  const byShard = new Map<number, Event[]>();
  for (const e of events) {
    const shard = shardOf(e.property_id, shards);
    const group = byShard.get(shard);
    if (group) group.push(e);
    else byShard.set(shard, [e]);
  }
  await Promise.all(
    [...byShard].map(([shard, group]) =>
      packerFor(queueFor(env, shard), producer, windowMs).enqueue(group, receivedAt),
    ),
  );
}
