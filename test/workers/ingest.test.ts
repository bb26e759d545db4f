/**
 * The ingest stage (durable-objects/ingest-do.ts, #14): with INGEST_SHARDS > 0, concurrent /collect
 * requests of one location leave as shared, ZSTD-compressed queue messages that the consumer reads
 * back exactly; a request is answered 202 only after the send carrying its events, and 503 when
 * the actor cannot queue them.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, expect, it, vi } from "vitest";
import { decodeEventsMessage } from "../../core/ingest/queue-message.ts";
import { messageBody } from "../../platform/queue-codec.ts";
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
