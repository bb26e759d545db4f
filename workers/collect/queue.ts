/**
 * Hands accepted events to the `events` queue, the one hand-off (issue #14: its consumer writes the
 * archive before anything else acts on a batch). With INGEST_SHARDS > 0 (wrangler.toml: 4) each
 * request's events go to an ingest actor of this Cloudflare location and of their events-queue
 * shard (core/ingest/ingest-route.ts; durable-objects/ingest-do.ts), which packs that shard's share
 * of the location's requests into compressed messages; with 0 this isolate packs what it sees
 * itself (platform/events-queue.ts: a window of PACK_WINDOW_MS, messages of ≤ 64 KB). Either way
 * the promise resolves only once the queue holds every event.
 */
import type { Event } from "../../core/event.ts";
import { ingestTargets } from "../../core/ingest/ingest-route.ts";
import { loadConfig } from "../../platform/config.ts";
import { enqueueEvents as sendFromIsolate, shardOf } from "../../platform/events-queue.ts";

export { configurePacking, shardOf } from "../../platform/events-queue.ts";

/**
 * Queues every event; resolves only when the events queue holds them all (a send carrying each
 * succeeded), rejects when a send carrying any failed; the caller then answers 503 and the client
 * retries with the same event_ids, which downstream recognises. `colo` names the location whose
 * ingest actors pack the request (`request.cf.colo`).
 */
export async function enqueueEvents(
  env: Env,
  shards: number,
  events: readonly Event[],
  receivedAt: number,
  colo = "local",
): Promise<void> {
  const ingestShards = loadConfig(env).INGEST_SHARDS;
  if (ingestShards === 0) return sendFromIsolate(env, shards, events, receivedAt);
  const targets = ingestTargets(events, { colo, queueShards: shards, ingestShards, shardOf, random: Math.random });
  await Promise.all(targets.map((t) => env.INGEST_DO.getByName(t.actor).enqueue(t.events, receivedAt, shards)));
}
