/**
 * Hands accepted events to the `events` queue, the one hand-off (issue #14: its consumer writes the
 * archive before anything else acts on a batch). Concurrent requests in this isolate share messages
 * (core/ingest/packer.ts: a window of PACK_WINDOW_MS, drafts of ≤ 64 KB, one billed operation
 * each); events are sharded by property over EVENTS_QUEUE_SHARDS queues, one packer per queue
 * binding, since one Cloudflare queue carries about 5,000 messages/s (README "Scale").
 */
import { waitUntil } from "cloudflare:workers";
import type { Event } from "../../core/event.ts";
import { Packer, type PackerOptions, type PackerTimers } from "../../core/ingest/packer.ts";

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

const timers: PackerTimers = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

// NOTE: a request may await a promise of another request, but a promise settled from another
// request's context runs its continuations there (vitest's pool sets
// no_handle_cross_request_promise_resolution) or drops them when its creator is gone (production),
// and a request's timers die with it. So the packer settles each promise where it was made, each
// request has a fallback send of its own, and whoever sends keeps its context alive with waitUntil
// until the send settles, even when its client has gone (#14).
function keepAlive(work: Promise<unknown>): void {
  try {
    waitUntil(work);
  } catch {
    // Outside a request (nothing to keep alive): the caller awaits the work anyway.
  }
}

type Settings = Partial<Pick<PackerOptions, "windowMs" | "fallbackMs" | "maxBytes">>;

/** Per isolate: one packer per queue binding (module state lives as long as the isolate). */
const packers = new WeakMap<Queue, Packer>();
const settings = new WeakMap<Queue, Settings>();

function packerFor(queue: Queue): Packer {
  let packer = packers.get(queue);
  if (!packer) {
    packer = new Packer({
      // Looked up at each send, not bound once: tests spy on the binding's method.
      send: (messages) => queue.sendBatch(messages.map((body): MessageSendRequest => ({ body, contentType: "text" }))),
      timers,
      keepAlive,
      ...settings.get(queue),
    });
    packers.set(queue, packer);
  }
  return packer;
}

/**
 * Packing settings for one queue binding (tests and bench/packing.ts; production keeps the
 * defaults). Call it while the queue is idle: a packer with an open window is replaced.
 */
export function configurePacking(queue: Queue, options?: Settings): void {
  packers.delete(queue);
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
): Promise<void> {
  if (shards === 1) return packerFor(env.EVENTS_QUEUE).enqueue(events, receivedAt);
  const byShard = new Map<number, Event[]>();
  for (const e of events) {
    const shard = shardOf(e.property_id, shards);
    const group = byShard.get(shard);
    if (group) group.push(e);
    else byShard.set(shard, [e]);
  }
  await Promise.all([...byShard].map(([shard, group]) => packerFor(queueFor(env, shard)).enqueue(group, receivedAt)));
}
