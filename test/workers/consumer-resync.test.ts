/**
 * A first delivery that reaches the session actors but not session_log (ClickHouse failed between
 * the two) must not lose the session: its redelivery finds the events repeated, so it asks what
 * the log holds and writes the missing state. Seen for real when the embedded engine dropped a
 * large insert during `npm run demo`.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { expect, it } from "vitest";
import { deliverBatch } from "../../consumers/events-consumer.ts";
import type { Event } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { applyToActors } from "../../durable-objects/client.ts";
import { R2ArchiveStore } from "../../platform/archive/r2-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { createClickHouseSink, type EventSink } from "../../platform/clickhouse-sink.ts";
import { loadConfig } from "../../platform/config.ts";

const PROPERTY = "UA-RESYNC-1";
const run = crypto.randomUUID().slice(0, 8);
const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});
const T0 = Date.now() - 10 * 60_000;

const ev = (id: string, at: number, page = "/") =>
  makeEvent({
    property_id: PROPERTY,
    client_id: `${run}-v`,
    event_id: `${run}-${id}`,
    event_timestamp: T0 + at,
    page_path: page,
  });

async function deliver(id: string, events: Event[], attempts: number, sink: EventSink) {
  const body: EventsMessage = { v: 1, received_at: Date.now(), events };
  const batch = createMessageBatch("events", [{ id: `${run}-${id}`, timestamp: new Date(), attempts, body }]);
  const ctx = createExecutionContext();
  await deliverBatch(batch.messages, sink, (all) => applyToActors(env, all, Date.now()), {
    store: new R2ArchiveStore(env.ARCHIVE_BUCKET),
    codec: zstdCodec,
  });
  return getQueueResult(batch, ctx);
}

async function logged() {
  const q = async (sql: string) =>
    (await clickhouse.query({ query: sql, query_params: { p: PROPERTY }, format: "JSONEachRow" })).json<
      Record<string, number>
    >();
  const [log] = await q(
    "SELECT toInt64(sum(sign)) AS visits, toInt64(sum(sign * pageviews)) AS pageviews FROM session_log WHERE property_id = {p:String}",
  );
  const [final] = await q(
    "SELECT toInt64(count()) AS visits, toInt64(sum(pageviews)) AS pageviews FROM sessions FINAL WHERE property_id = {p:String}",
  );
  return {
    log: { visits: Number(log?.visits), pageviews: Number(log?.pageviews) },
    final: { visits: Number(final?.visits), pageviews: Number(final?.pageviews) },
  };
}

it("redelivery after a lost session_log insert writes the session; later changes net correctly", async () => {
  const real = createClickHouseSink(loadConfig(env));
  const failing: EventSink = {
    ...real,
    insertSessionLog: async () => Promise.reject(new Error("Network connection lost.")),
  };
  const first = [ev("1", 0), ev("2", 60_000, "/pricing")];

  const attempt1 = await deliver("m1", first, 1, failing);
  expect(attempt1.retryMessages).toHaveLength(1);
  expect(await logged()).toEqual({ log: { visits: 0, pageviews: 0 }, final: { visits: 0, pageviews: 0 } });

  const attempt2 = await deliver("m1", first, 2, real);
  expect(attempt2.explicitAcks).toHaveLength(1);
  expect(await logged()).toEqual({ log: { visits: 1, pageviews: 2 }, final: { visits: 1, pageviews: 2 } });

  // Delivered once more (at-least-once): the log already holds the current state, nothing is added.
  await deliver("m1", first, 3, real);
  expect(await logged()).toEqual({ log: { visits: 1, pageviews: 2 }, final: { visits: 1, pageviews: 2 } });

  // The session goes on: the usual -1/+1 pair, and the sums still match.
  await deliver("m2", [ev("3", 120_000, "/signup")], 1, real);
  expect(await logged()).toEqual({ log: { visits: 1, pageviews: 3 }, final: { visits: 1, pageviews: 3 } });
});
