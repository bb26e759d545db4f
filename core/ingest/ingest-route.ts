/**
 * Which ingest actors pack a request's events (issue #19). An actor packs one events-queue shard:
 * were it to pack every shard, its window would split over EVENTS_QUEUE_SHARDS packers and each
 * message would carry a fraction of the requests (bench/sizing-model.ts priced that at 1.2–1.6
 * requests a message). So the edge groups a request's events by queue shard (usually one group: a
 * request is one property) and sends each group to one of the INGEST_SHARDS actors that location
 * keeps for that shard.
 */
import type { Event } from "../event.ts";

export interface IngestTarget {
  queueShard: number;
  /** The actor's name: `colo|queueShard|n`, n < INGEST_SHARDS. */
  actor: string;
  events: Event[];
}

export interface IngestRoute {
  /** The Cloudflare location that received the request (`request.cf.colo`). */
  colo: string;
  queueShards: number;
  /** Actors per location per queue shard (INGEST_SHARDS, ≥ 1). */
  ingestShards: number;
  /** The property's queue shard (platform/events-queue.ts shardOf): the one the consumer reads it from. */
  shardOf: (propertyId: string, shards: number) => number;
  /** In [0, 1): picks an actor of the shard, so traffic spreads evenly over them. */
  random: () => number;
}

export function ingestActorName(colo: string, queueShard: number, ingestShards: number, random: () => number): string {
  return `${colo}|${queueShard}|${Math.floor(random() * ingestShards)}`;
}

/** The request's events grouped by queue shard, each group with the actor that packs it. */
export function ingestTargets(events: readonly Event[], route: IngestRoute): IngestTarget[] {
  const byShard = new Map<number, Event[]>();
  for (const e of events) {
    const shard = route.queueShards === 1 ? 0 : route.shardOf(e.property_id, route.queueShards);
    const group = byShard.get(shard);
    if (group) group.push(e);
    else byShard.set(shard, [e]);
  }
  return [...byShard].map(([queueShard, group]) => ({
    queueShard,
    actor: ingestActorName(route.colo, queueShard, route.ingestShards, route.random),
    events: group,
  }));
}
