/**
 * The edge's routing to ingest actors (core/ingest/ingest-route.ts): each event goes to an actor
 * of its own queue shard, exactly once, and the shard's actors share the traffic.
 */
import { describe, expect, it } from "vitest";
import { type IngestRoute, ingestTargets } from "../../core/ingest/ingest-route.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

// A stand-in for the FNV spread: "P<n>" lives on shard n mod shards, so expectations are plain.
const shardOf = (propertyId: string, shards: number) => Number(propertyId.slice(1)) % shards;
const route = (over: Partial<IngestRoute> = {}): IngestRoute => ({
  colo: "AMS",
  queueShards: 4,
  ingestShards: 3,
  shardOf,
  random: () => 0.5,
  ...over,
});

describe("ingestTargets", () => {
  it("sends a one-property request whole to one actor of that property's shard", () => {
    const events = [1, 2, 3].map((i) => makeEvent({ property_id: "P6", event_id: `e${i}` }));
    expect(ingestTargets(events, route())).toEqual([{ queueShard: 2, actor: "AMS|2|1", events }]);
  });

  it("splits a mixed request by queue shard: every event once, each group on one shard, order kept", () => {
    const ids = ["P0", "P1", "P5", "P4", "P2", "P9", "P8"];
    const events = ids.map((property_id, i) => makeEvent({ property_id, event_id: `e${i}` }));
    const targets = ingestTargets(events, route());
    expect(targets.map((t) => t.queueShard).sort()).toEqual([0, 1, 2]);
    for (const t of targets) {
      expect(t.actor.startsWith(`AMS|${t.queueShard}|`)).toBe(true);
      expect(t.events.every((e) => shardOf(e.property_id, 4) === t.queueShard)).toBe(true);
    }
    const routed = targets.flatMap((t) => t.events.map((e) => e.event_id));
    expect(routed.sort()).toEqual(events.map((e) => e.event_id).sort());
    expect(targets.find((t) => t.queueShard === 0)?.events.map((e) => e.property_id)).toEqual(["P0", "P4", "P8"]);
  });

  it("picks among the shard's INGEST_SHARDS actors by the random draw, each group its own draw", () => {
    const draws = [0, 0.99, 0.34];
    const events = ["P0", "P1", "P2"].map((property_id) => makeEvent({ property_id }));
    const targets = ingestTargets(events, route({ random: () => draws.shift() ?? 0 }));
    expect(targets.map((t) => t.actor)).toEqual(["AMS|0|0", "AMS|1|2", "AMS|2|1"]);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++)
      seen.add(ingestTargets(events.slice(0, 1), route({ random: Math.random }))[0]?.actor ?? "");
    expect(seen).toEqual(new Set(["AMS|0|0", "AMS|0|1", "AMS|0|2"]));
  });

  it("with one queue shard sends everything to shard 0's actors without hashing", () => {
    const events = ["P1", "P2", "P3"].map((property_id) => makeEvent({ property_id }));
    const hashed: string[] = [];
    const counting = (p: string, n: number) => {
      hashed.push(p);
      return shardOf(p, n);
    };
    const targets = ingestTargets(events, route({ queueShards: 1, ingestShards: 4, shardOf: counting }));
    expect(targets).toEqual([{ queueShard: 0, actor: "AMS|0|2", events }]);
    expect(hashed).toEqual([]);
  });

  it("routes nothing for no events", () => {
    expect(ingestTargets([], route())).toEqual([]);
  });
});
