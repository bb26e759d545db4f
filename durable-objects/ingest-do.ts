/**
 * IngestDO: the packing stage (issue #14). One isolate sees too few requests to fill queue
 * messages (at 10 requests/s and a 10 ms window, 1.1 requests a message), so the edge hands each
 * request's events to an ingest actor of its Cloudflare location (INGEST_SHARDS per location), which
 * sees the location's traffic and packs it: INGEST_WINDOW_MS of requests, up to 512 KB of event
 * JSON a message, ZSTD-compressed. A call returns only when the queue holds its events (the send
 * that carries them succeeded), so the edge's 202 still means "durably queued"; if the actor is
 * evicted or fails first, the call throws and the edge answers 503, and the client retries.
 *
 * It keeps nothing in storage: a message's worth of requests lives in memory for one window.
 */
import { DurableObject } from "cloudflare:workers";
import type { Event } from "../core/event.ts";
import { loadConfig } from "../platform/config.ts";
import { enqueueEvents } from "../platform/events-queue.ts";

export class IngestDO extends DurableObject<Env> {
  /** Queues one request's events with the others of this window; resolves once they are queued. */
  async enqueue(events: Event[], receivedAt: number): Promise<void> {
    const config = loadConfig(this.env);
    await enqueueEvents(this.env, config.EVENTS_QUEUE_SHARDS, events, receivedAt, "ingest", config.INGEST_WINDOW_MS);
  }
}

/** The ingest actor for a request: one of the location's shards, at random (traffic spreads evenly). */
export function ingestActorName(colo: string, shards: number): string {
  return `${colo}|${Math.floor(Math.random() * shards)}`;
}
