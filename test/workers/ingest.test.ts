/**
 * The ingest stage (durable-objects/ingest-do.ts, #14): with INGEST_SHARDS > 0, concurrent /collect
 * requests of one location leave as shared, ZSTD-compressed queue messages that the consumer reads
 * back exactly; a request is answered 202 only after the send carrying its events, and 503 when
 * the actor cannot queue them. With several events-queue shards each actor packs one shard's
 * requests (core/ingest/ingest-route.ts), so a window is not split over the queues.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Event } from "../../core/event.ts";
import { decodeEventsMessage } from "../../core/ingest/queue-message.ts";
import type { IngestDO } from "../../durable-objects/ingest-do.ts";
import { messageBody } from "../../platform/queue-codec.ts";
import { shardOf } from "../../workers/collect/queue.ts";
import worker from "../../workers/main.ts";
import { createProperty } from "./helpers.ts";

afterEach(() => vi.restoreAllMocks());

const run = crypto.randomUUID().slice(0, 8);
const staged = { ...env, INGEST_SHARDS: "1" };
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

function collect(property: string, i: number, targetEnv: Env = staged): Promise<Response> {
  const request = new Request("http://tally.test/collect", {
    method: "POST",
    headers: { "User-Agent": UA, "CF-Connecting-IP": `198.51.100.${i}` },
    body: JSON.stringify([
      { property_id: property, client_id: `c${i}`, event_type: "pageview", page_url: `https://example.com/${i}` },
      { property_id: property, client_id: `c${i}`, event_type: "click", page_url: `https://example.com/${i}` },
    ]),
  });
  return Promise.resolve(worker.fetch(request, targetEnv, createExecutionContext()));
}

it("packs a location's concurrent requests into shared compressed messages the consumer reads back exactly", async () => {
  const p = await createProperty({ property_id: `UA-ING-${run}` });
  const sent = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => collect(p.property_id, i)));
  expect(answers.map((r) => r.status)).toEqual(Array(12).fill(202));
  const messages = sent.mock.calls.flatMap(([batch]) => [...batch]);
  // One actor, one 20 ms window: the twelve requests leave together (one message, or very few).
  expect(messages.length).toBeLessThan(4);
  expect(messages.every((m) => m.contentType === "bytes")).toBe(true);
  const bodies = messages.map((m) => decodeEventsMessage(messageBody(m.body)));
  const events = bodies.flatMap((b) => (b.success ? b.data.events : []));
  expect(events).toHaveLength(24);
  expect(new Set(events.map((e) => e.event_id)).size).toBe(24);
  expect(new Set(events.map((e) => e.client_id))).toEqual(new Set(Array.from({ length: 12 }, (_, i) => `c${i}`)));

  // The consumer takes the compressed bodies as they are delivered.
  const batch = createMessageBatch(
    "events",
    messages.map((m, i) => ({ id: `${run}-m${i}`, timestamp: new Date(), attempts: 1, body: m.body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(messages.length);
});

it("answers 503 when the actor's send fails: nothing is acknowledged before the queue holds it", async () => {
  const p = await createProperty({ property_id: `UA-INGD-${run}` });
  vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
  const answers = await Promise.all(Array.from({ length: 3 }, (_, i) => collect(p.property_id, i)));
  expect(answers.map((r) => r.status)).toEqual([503, 503, 503]);
});

describe("with two events-queue shards", () => {
  const sharded = { ...env, INGEST_SHARDS: "1", EVENTS_QUEUE_SHARDS: "2" };
  const second = (env as unknown as Record<string, Queue | undefined>).EVENTS_QUEUE_1;
  if (!second) throw new Error("the test config binds EVENTS_QUEUE_1");
  const queues = [env.EVENTS_QUEUE, second];

  /** Two properties on each shard: ids tried in turn until each shard has its two. */
  async function propertiesOnBothShards(tag: string): Promise<string[][]> {
    const onShard: string[][] = [[], []];
    for (let i = 0; onShard.some((ids) => ids.length < 2); i++) {
      const id = `UA-${tag}${i}-${run}`;
      const ids = onShard[shardOf(id, 2)];
      if (ids && ids.length < 2) ids.push(id);
    }
    for (const id of onShard.flat()) await createProperty({ property_id: id });
    return onShard;
  }

  /** The events each ingest actor was handed, by actor name (the real actors still queue them). */
  function watchActors(): Map<string, Event[]> {
    const handed = new Map<string, Event[]>();
    const namespace = env.INGEST_DO;
    const byName = namespace.getByName.bind(namespace);
    vi.spyOn(namespace, "getByName").mockImplementation((name: string) => {
      const stub = byName(name);
      const watched = {
        enqueue: (events: Event[], receivedAt: number, shards?: number) => {
          handed.set(name, [...(handed.get(name) ?? []), ...events]);
          return stub.enqueue(events, receivedAt, shards);
        },
      };
      return watched as unknown as DurableObjectStub<IngestDO>;
    });
    return handed;
  }

  it("sends each event to its own shard's queue exactly once, through an actor that packs only that shard", async () => {
    const onShard = await propertiesOnBothShards("INGS");
    const handed = watchActors();
    const sent = queues.map((q) => vi.spyOn(q, "sendBatch"));
    const properties = onShard.flat();
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => collect(properties[i % properties.length] ?? "", i, sharded)),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(16).fill(202));

    // INGEST_SHARDS 1: one actor of this location for each queue shard, handed only that shard's events.
    expect([...handed.keys()].sort()).toEqual(["local|0|0", "local|1|0"]);
    for (const [name, events] of handed)
      expect(events.every((e) => `local|${shardOf(e.property_id, 2)}|0` === name)).toBe(true);

    sent.forEach((spy, shard) => {
      const messages = spy.mock.calls.flatMap(([batch]) => [...batch]);
      // One actor, one window for the shard's eight concurrent requests: one message, or very few.
      expect(messages.length).toBeGreaterThan(0);
      expect(messages.length).toBeLessThan(4);
      const bodies = messages.map((m) => decodeEventsMessage(messageBody(m.body)));
      expect(bodies.every((b) => b.success)).toBe(true);
      for (const b of bodies)
        expect(b.success && b.data.events.every((e) => shardOf(e.property_id, 2) === shard)).toBe(true);
      const queued = bodies.flatMap((b) => (b.success ? b.data.events.map((e) => e.event_id) : []));
      // Every event its actor was handed, each once, and nothing else.
      const expected = (handed.get(`local|${shard}|0`) ?? []).map((e) => e.event_id);
      expect(queued).toHaveLength(16);
      expect(queued.sort()).toEqual(expected.sort());
      expect(new Set(queued).size).toBe(16);
    });
  });

  it("answers 503 only for the requests whose shard's queue failed", async () => {
    const onShard = await propertiesOnBothShards("INGF");
    vi.spyOn(second, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const [ok, failing] = onShard.map((ids) => ids[0] ?? "");
    const answers = await Promise.all(
      [0, 1, 2, 3].map((i) => collect(i % 2 ? (failing ?? "") : (ok ?? ""), i, sharded)),
    );
    expect(answers.map((r) => r.status)).toEqual([202, 503, 202, 503]);
  });
});
