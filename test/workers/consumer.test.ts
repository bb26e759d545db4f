/**
 * consumers/events-consumer.ts in workerd, writing to the run's real ClickHouse engine:
 * per-message ack/retry, idempotent redelivery, isolation of a message ClickHouse refuses.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { backoffSeconds } from "../../consumers/backoff.ts";
import type { Event } from "../../core/event.ts";
import type { EventsMessage } from "../../core/queue-message.ts";
import worker from "../../workers/main.ts";
import { makeEvent } from "../support/events.ts";

const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});
const run = crypto.randomUUID().slice(0, 8);

function event(id: string, clientId = "c1"): Event {
  return makeEvent({ property_id: "UA-CONSUMER-1", client_id: clientId, event_id: `${run}-${id}` });
}

function message(id: string, events: Event[], attempts = 1) {
  const body: EventsMessage = { v: 1, received_at: Date.UTC(2026, 10, 26, 9, 31), events };
  return { id: `${run}-${id}`, timestamp: new Date(), attempts, body };
}

async function deliver(
  messages: ReturnType<typeof message>[] | { id: string; timestamp: Date; attempts: number; body: unknown }[],
  overrides: Partial<Env> = {},
) {
  const batch = createMessageBatch("events", messages);
  // getQueueResult records which messages were retried but not the delay, so watch retry() itself.
  const delays: { msgId: string; delaySeconds?: number }[] = [];
  for (const m of batch.messages) {
    const original = m.retry.bind(m);
    vi.spyOn(m, "retry").mockImplementation((options) => {
      delays.push({ msgId: m.id, delaySeconds: options?.delaySeconds });
      original(options);
    });
  }
  const ctx = createExecutionContext();
  await worker.queue(batch, { ...env, ...overrides }, ctx);
  return { ...(await getQueueResult(batch, ctx)), delays };
}

async function storedIds(ids: string[], database = env.CLICKHOUSE_DATABASE): Promise<string[]> {
  const result = await clickhouse.query({
    query: `SELECT event_id FROM ${database}.events WHERE event_id IN {ids:Array(String)} ORDER BY event_id`,
    query_params: { ids: ids.map((i) => `${run}-${i}`) },
    format: "JSONEachRow",
  });
  return (await result.json<{ event_id: string }>()).map((r) => r.event_id.slice(run.length + 1));
}

describe("events consumer", () => {
  it("inserts a batch into ClickHouse and acks every message", async () => {
    const result = await deliver([message("m1", [event("a1"), event("a2")]), message("m2", [event("a3")])]);
    expect(result.explicitAcks.sort()).toEqual([`${run}-m1`, `${run}-m2`]);
    expect(result.retryMessages).toEqual([]);
    expect(result.ackAll).toBe(false);
    expect(await storedIds(["a1", "a2", "a3"])).toEqual(["a1", "a2", "a3"]);
  });

  it("writes nothing twice when the same batch is redelivered", async () => {
    const batch = [message("r1", [event("b1")]), message("r2", [event("b2")])];
    await deliver(batch);
    const again = await deliver(batch.map((m) => ({ ...m, attempts: 2 })).reverse());
    expect(again.explicitAcks).toHaveLength(2);
    expect(await storedIds(["b1", "b2"])).toEqual(["b1", "b2"]);
  });

  it("retries a malformed message with backoff and still delivers its neighbours", async () => {
    const bad = { id: `${run}-bad`, timestamp: new Date(), attempts: 3, body: { v: 1, events: "nope" } };
    const result = await deliver([bad, message("good", [event("c1")])]);
    expect(result.retryMessages).toEqual([{ msgId: `${run}-bad` }]);
    expect(result.delays).toEqual([{ msgId: `${run}-bad`, delaySeconds: backoffSeconds(3) }]);
    expect(result.explicitAcks).toEqual([`${run}-good`]);
    expect(await storedIds(["c1"])).toEqual(["c1"]);
  });

  it("retries every message with backoff when ClickHouse is unreachable", async () => {
    const result = await deliver([message("d1", [event("d1")], 1), message("d2", [event("d2")], 4)], {
      CLICKHOUSE_URL: "http://127.0.0.1:9",
    });
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((r) => r.msgId)).toEqual([`${run}-d1`, `${run}-d2`]);
    expect(result.delays).toEqual([
      { msgId: `${run}-d1`, delaySeconds: backoffSeconds(1) },
      { msgId: `${run}-d2`, delaySeconds: backoffSeconds(4) },
    ]);
  });

  it("stores an imported batch spanning more days than ClickHouse's default partition cap (100)", async () => {
    const days = Array.from({ length: 150 }, (_, d) =>
      makeEvent({
        property_id: "UA-CONSUMER-1",
        event_id: `${run}-day${d}`,
        event_timestamp: Date.UTC(2024, 0, 1) + d * 86_400_000,
      }),
    );
    const result = await deliver([message("history", days)]);
    expect(result.explicitAcks).toEqual([`${run}-history`]);
    expect(await storedIds(days.map((_, d) => `day${d}`))).toHaveLength(150);
  });

  describe("when ClickHouse refuses one message's rows", () => {
    const database = `tally_poison_${run}`;
    beforeAll(async () => {
      await clickhouse.command({ query: `CREATE DATABASE ${database}` });
      await clickhouse.command({ query: `CREATE TABLE ${database}.events AS ${env.CLICKHOUSE_DATABASE}.events` });
      await clickhouse.command({ query: `CREATE TABLE ${database}.sessions AS ${env.CLICKHOUSE_DATABASE}.sessions` });
      await clickhouse.command({
        query: `ALTER TABLE ${database}.events ADD CONSTRAINT no_poison CHECK client_id != 'poison'`,
      });
    });

    it("isolates it: the others are stored and acked, it alone is retried", async () => {
      const result = await deliver(
        [message("p1", [event("p1")]), message("p2", [event("p2", "poison")]), message("p3", [event("p3")])],
        { CLICKHOUSE_DATABASE: database },
      );
      expect(result.explicitAcks.sort()).toEqual([`${run}-p1`, `${run}-p3`]);
      expect(result.retryMessages.map((r) => r.msgId)).toEqual([`${run}-p2`]);
      expect(await storedIds(["p1", "p2", "p3"], database)).toEqual(["p1", "p3"]);
    });
  });
});
