/**
 * Queue "events" ─► ClickHouse. Each batch becomes one insert whose deduplication token is derived
 * from its message ids, so a redelivered batch writes nothing twice. Every message is acked or
 * retried on its own; a message ClickHouse refuses is isolated so its neighbours still land.
 */
import { toClickHouseRow } from "../core/clickhouse-row.ts";
import { type EventsMessage, EventsMessageSchema } from "../core/queue-message.ts";
import { loadConfig } from "../workers/config.ts";
import { backoffSeconds } from "./backoff.ts";
import { createClickHouseSink, type EventSink, isRejectedByClickHouse } from "./clickhouse-sink.ts";

interface Parsed {
  message: Message<unknown>;
  body: EventsMessage;
}

/** Deterministic token for a set of messages: the same messages give the same token, in any order. */
export async function dedupToken(messageIds: readonly string[]): Promise<string> {
  const data = new TextEncoder().encode([...messageIds].sort().join("\n"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return `events-${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function retry(message: Message<unknown>): void {
  message.retry({ delaySeconds: backoffSeconds(message.attempts) });
}

async function insertGroup(group: readonly Parsed[], sink: EventSink): Promise<void> {
  const rows = group.flatMap(({ body }) => body.events.map((e) => toClickHouseRow(e, body.received_at)));
  await sink.insert(rows, await dedupToken(group.map((p) => p.message.id)));
}

/** Delivers one batch to the sink, acking or retrying each message. */
export async function deliverBatch(messages: readonly Message<unknown>[], sink: EventSink): Promise<void> {
  const parsed: Parsed[] = [];
  for (const message of messages) {
    const result = EventsMessageSchema.safeParse(message.body);
    if (result.success) parsed.push({ message, body: result.data });
    else {
      // Kept, not dropped: after max_retries it rests in events-dlq for inspection.
      console.error(`events message ${message.id} does not match the schema`, result.error.issues.slice(0, 3));
      retry(message);
    }
  }
  if (parsed.length === 0) return;
  try {
    await insertGroup(parsed, sink);
    for (const { message } of parsed) message.ack();
  } catch (error) {
    if (parsed.length > 1 && isRejectedByClickHouse(error)) return deliverOneByOne(parsed, sink);
    console.error(`insert of ${parsed.length} messages failed; retrying`, error);
    for (const { message } of parsed) retry(message);
  }
}

async function deliverOneByOne(parsed: readonly Parsed[], sink: EventSink): Promise<void> {
  for (const item of parsed) {
    try {
      await insertGroup([item], sink);
      item.message.ack();
    } catch (error) {
      console.error(`message ${item.message.id} was refused by ClickHouse; retrying`, error);
      retry(item.message);
    }
  }
}

/** The Worker's `queue` handler. */
export async function handleEventsBatch(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  await deliverBatch(batch.messages, createClickHouseSink(loadConfig(env)));
}
