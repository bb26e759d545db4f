/**
 * What the consumer tests share: a queue batch of events messages as the events queue delivers it,
 * and one delivery of it through the consumer with the real actors and archive and a given sink
 * (so a test can make ClickHouse fail, or the isolate die, where it wants).
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { deliverBatch } from "../../consumers/events-consumer.ts";
import type { Event } from "../../core/event.ts";
import type { EventsMessage } from "../../core/ingest/queue-message.ts";
import { applyToActors } from "../../durable-objects/client.ts";
import { R2ArchiveStore } from "../../platform/archive/r2-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import type { EventSink } from "../../platform/clickhouse-sink.ts";

/** A message as sent: its id, its events, and which delivery of it this is. */
export interface SentMessage {
  id: string;
  events: Event[];
  attempts: number;
}

/** The messages as one delivered batch, each received by the edge at `receivedAt`. */
export function eventsBatch(messages: readonly SentMessage[], receivedAt = Date.now()) {
  return createMessageBatch(
    "events",
    messages.map(({ id, events, attempts }) => {
      const body: EventsMessage = { v: 1, received_at: receivedAt, events };
      return { id, timestamp: new Date(), attempts, body };
    }),
  );
}

/** Delivers the messages through the consumer (archive, actors, `sink`); resolves to the acks and retries. */
export async function deliverThroughActors(messages: readonly SentMessage[], sink: EventSink, receivedAt?: number) {
  const batch = eventsBatch(messages, receivedAt);
  const ctx = createExecutionContext();
  await deliverBatch(batch.messages, sink, (all) => applyToActors(env, all, Date.now()), {
    store: new R2ArchiveStore(env.ARCHIVE_BUCKET),
    codec: zstdCodec,
  });
  return getQueueResult(batch, ctx);
}
