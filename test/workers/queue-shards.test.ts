/** Sharding the events stream over several queues by property, and what a queue outage answers. */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { enqueueEvents, shardOf } from "../../workers/collect/queue.ts";
import { call, createProperty, envelope, sentMessage } from "./helpers.ts";

afterEach(() => vi.restoreAllMocks());

describe("queue shards", () => {
  it("spreads properties over shards and keeps each property on one shard", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[shardOf(`UA-${i}-1`, 4)] = (counts[shardOf(`UA-${i}-1`, 4)] ?? 0) + 1;
    for (const n of counts) expect(n).toBeGreaterThan(800);
    expect(shardOf("UA-DEMO-1", 4)).toBe(shardOf("UA-DEMO-1", 4));
  });

  it("sends each property's events to its shard's queue binding", async () => {
    const second = (env as unknown as Record<string, Queue>).EVENTS_QUEUE_1;
    if (!second) throw new Error("the test config binds EVENTS_QUEUE_1");
    const q0 = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    const q1 = vi.spyOn(second, "sendBatch");
    const ids = Array.from({ length: 40 }, (_, i) => `UA-SHARD${i}-1`);
    await enqueueEvents(
      env,
      2,
      ids.map((property_id, i) => makeEvent({ property_id, event_id: `s${i}` })),
      Date.now(),
    );
    const onShard = (spy: typeof q0) =>
      spy.mock.calls.flatMap(([b]) => [...b].flatMap((m) => sentMessage(m).events.map((e) => e.property_id)));
    expect(onShard(q0).sort()).toEqual(ids.filter((id) => shardOf(id, 2) === 0).sort());
    expect(onShard(q1).sort()).toEqual(ids.filter((id) => shardOf(id, 2) === 1).sort());
  });
});

describe("when the queue is down", () => {
  it("answers 503 queue_unavailable: nothing was accepted, so the client keeps the events and retries", async () => {
    await createProperty({ property_id: "UA-QDOWN-1" });
    vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const res = await call("/collect", {
      method: "POST",
      body: JSON.stringify({
        property_id: "UA-QDOWN-1",
        client_id: "c",
        event_type: "pageview",
        page_url: "https://example.com/",
      }),
    });
    expect(res.status).toBe(503);
    expect((await envelope(res)).error.code).toBe("queue_unavailable");
  });
});
