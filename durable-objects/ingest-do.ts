/**
 * IngestDO: the packing stage (issue #14). One isolate sees too few requests to fill queue
 * messages (at 10 requests/s and a 10 ms window, 1.1 requests a message), so the edge hands each
 * request's events to an ingest actor of its Cloudflare location and events-queue shard
 * (INGEST_SHARDS per location and shard, core/ingest/ingest-route.ts), which sees that shard's
 * share of the location's traffic and packs it in one packer: INGEST_WINDOW_MS of requests, up to
 * 512 KB of event JSON a message, ZSTD-compressed. A call returns only when the queue holds its
 * events (the send that carries them succeeded), so the edge's 202 still means "durably queued";
 * if the actor is evicted or fails first, the call throws and the edge answers 503, and the client
 * retries.
 *
 * It keeps nothing in storage: a message's worth of requests lives in memory for one window.
 */
import { DurableObject } from "cloudflare:workers";
import type { Event } from "../core/event.ts";
import { loadConfig } from "../platform/config.ts";
import { enqueueEvents } from "../platform/events-queue.ts";

export class IngestDO extends DurableObject<Env> {
  /**
   * Queues one request's events with the others of this window; resolves once they are queued.
   * `queueShards` is the edge's EVENTS_QUEUE_SHARDS, so both shard by the same count even while a
   * deploy changes it (an older edge omits it: this actor's own setting).
   */
  async enqueue(events: Event[], receivedAt: number, queueShards?: number): Promise<void> {
    const config = loadConfig(this.env);
    const shards = queueShards ?? config.EVENTS_QUEUE_SHARDS;
    await enqueueEvents(this.env, shards, events, receivedAt, "ingest", config.INGEST_WINDOW_MS);
  }
}
