/**
 * Queue "events" ─► archive (Parquet, written first) ─► SessionDO ─► PropertyDO ─► ClickHouse
 * (session_log ─► sessions, then events).
 *
 * The batch is archived first (core/archive/delivery.ts: a file per busy property-hour, one pooled
 * file per hour for the rest), and nothing acts on it
 * unless that write succeeded: an event is archived and not yet live, never the reverse. Then the
 * events ClickHouse holds already are dropped (consumers/once-only.ts), whatever the attempt. The
 * rest passes the actors (one RPC per session actor and per property actor), which
 * give every event its session id and mark repeats; then it becomes one insert per table whose
 * deduplication token derives from the message ids, so a redelivered batch writes nothing twice.
 * Repeats are not inserted again — except on redelivery (attempts > 1), when the actors have seen
 * the events but ClickHouse had not (the check said so): then they are, once. Sessions are written
 * as their net change in the batch (-1 the state before, +1 the state after), once each, before the
 * events (so a stored event's sessions are logged); repeats change no session, so they write
 * no log rows. Every message is acked or retried on its own; a message ClickHouse refuses is
 * isolated so its neighbours still land. Each retry has a reason; on a message's last attempt it is
 * kept in R2, so the message's dead letter says why (consumers/dead-letters.ts).
 */

import { type ArchiveMessage, PendingMarks, storeGroup } from "../core/archive/batch.ts";
import { encodeDeliveryIsolating } from "../core/archive/delivery.ts";
import type { ArchiveCodec } from "../core/archive/parquet.ts";
import type { ArchiveStore } from "../core/archive/store.ts";
import type { Event } from "../core/event.ts";
import { decodeEventsMessage, type EventsMessage } from "../core/ingest/queue-message.ts";
import { type Annotation, applyToActors } from "../durable-objects/client.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { createClickHouseSink, type EventSink, isRejectedByClickHouse } from "../platform/clickhouse-sink.ts";
import { loadConfig } from "../platform/config.ts";
import { errorFields, log } from "../platform/log.ts";
import { countMetric, observeMetric } from "../platform/ops-metrics.ts";
import { bodyBytes, messageBody } from "../platform/queue-codec.ts";
import { backoffSeconds } from "./backoff.ts";
import { describeError as describe, keepLastErrors } from "./dead-letters.ts";
import { changesOf, insertGroup } from "./insert-group.ts";
import { withoutStored } from "./once-only.ts";
import { markLateHours } from "./warehouse-jobs.ts";

/** A message whose body passed the schema. */
export interface Parsed {
  message: Message<unknown>;
  body: EventsMessage;
}

/** Gives events their session ids; the production one is the actors. */
export type Annotate = (events: readonly Event[]) => Promise<Annotation>;

/** Where a batch is archived before anything acts on it. */
export interface Archive {
  store: ArchiveStore;
  codec: ArchiveCodec;
  /** Told the events of every successful write (the warehouse reloads closed hours that got late events). */
  onArchived?: (events: readonly Event[]) => Promise<void>;
}

/** Open hours this isolate has marked pending already, per store (one marker write per partition and hour). */
const marksByStore = new WeakMap<ArchiveStore, PendingMarks>();

/**
 * Archives the delivery (core/archive/delivery.ts). Returns the messages it holds (the ones to act
 * on) and retries the ones the encoder refuses; throws when a write fails, so the whole delivery
 * is retried (it rewrites the same files).
 */
async function archiveFirst(
  parsed: readonly Parsed[],
  archive: Archive,
): Promise<{ kept: Parsed[]; files: number; bytes: number }> {
  const messages: ArchiveMessage[] = parsed.map((p) => ({ id: p.message.id, body: p.body }));
  const { files, refused } = await encodeDeliveryIsolating(messages, archive.codec);
  for (const p of parsed)
    if (refused.includes(p.message.id)) {
      log.error("events message cannot be archived; retrying", { message_id: p.message.id });
      retry(p.message, "archive: the message cannot be encoded as Parquet");
    }
  const marks = marksByStore.get(archive.store) ?? new PendingMarks();
  marksByStore.set(archive.store, marks);
  const started = Date.now();
  await Promise.all(files.map((file) => storeGroup(archive.store, file, marks)));
  observeMetric("archive_write_ms", Date.now() - started);
  return {
    kept: parsed.filter((p) => !refused.includes(p.message.id)),
    files: files.length,
    bytes: files.reduce((n, f) => n + f.bytes.byteLength, 0),
  };
}

/** Why each message was last retried: kept in R2 for the ones on their last attempt (keepLastErrors). */
const retryReasons = new WeakMap<Message<unknown>, string>();

function retry(message: Message<unknown>, reason: string): void {
  retryReasons.set(message, reason);
  message.retry({ delaySeconds: backoffSeconds(message.attempts) });
}

const retryReason = (message: Message<unknown>) => retryReasons.get(message);

/**
 * Delivers one batch: the archive first, then the actors, then ClickHouse, acking or retrying each
 * message. Resolves to true when the actors took messages that ClickHouse then did not (they are
 * retried): a later delivery of the same visitors must wait for them (handleEventsBatch).
 */
export function deliverBatch(
  messages: readonly Message<unknown>[],
  sink: EventSink,
  annotate: Annotate,
  archive: Archive,
): Promise<boolean> {
  return deliverReceived(messages.map(receive), sink, annotate, archive);
}

/** A delivered message with its body decompressed once: text (or an object, from tests) and the bytes it was billed for. */
interface Received {
  message: Message<unknown>;
  body: unknown;
  billed: number;
}

function receive(message: Message<unknown>): Received {
  return { message, body: messageBody(message.body), billed: bodyBytes(message.body) };
}

/** Event JSON a received body holds (its text's length; an object's, as billed). */
const jsonLength = (r: Received) => (typeof r.body === "string" ? r.body.length : r.billed);

async function deliverReceived(
  received: readonly Received[],
  sink: EventSink,
  annotate: Annotate,
  archive: Archive,
): Promise<boolean> {
  let parsed: Parsed[] = [];
  let messageBytes = 0;
  let jsonBytes = 0;
  for (const { message, body, billed } of received) {
    messageBytes += billed;
    jsonBytes += typeof body === "string" ? body.length : 0;
    const result = decodeEventsMessage(body);
    if (result.success) parsed.push({ message, body: result.data });
    else {
      // Kept, not dropped: after max_retries it rests in events-dlq for inspection.
      const issues = result.error.issues.slice(0, 3).map((i) => `${i.path.join(".") || "body"}: ${i.message}`);
      log.error("events message does not match the schema; retrying", { message_id: message.id, issues });
      retry(message, `schema: ${issues.join("; ")}`);
    }
  }
  if (parsed.length === 0) return false;
  let archived: { kept: Parsed[]; files: number; bytes: number };
  try {
    archived = await archiveFirst(parsed, archive);
  } catch (error) {
    countMetric("archive_errors");
    log.error("archiving failed; retrying every message", { messages: parsed.length, ...errorFields(error) });
    for (const { message } of parsed) retry(message, `archive: ${describe(error)}`);
    return false;
  }
  parsed = archived.kept;
  if (parsed.length === 0) return false;
  await archive.onArchived?.(parsed.flatMap((p) => p.body.events));
  let annotated = false;
  try {
    const delivered = parsed.reduce((n, p) => n + p.body.events.length, 0);
    const fresh = await withoutStored(parsed, sink);
    parsed = fresh.run;
    const events = parsed.flatMap((p) => p.body.events);
    const annotation = await annotate(events);
    annotated = true;
    // One line per batch: the measured cost of the live path (bench/cost.ts sums these).
    log.metric("consumer_batch", {
      messages: parsed.length,
      events: delivered,
      stored_repeats: fresh.stored,
      message_bytes: messageBytes,
      json_bytes: jsonBytes,
      archive_files: archived.files,
      archive_bytes: archived.bytes,
      ...annotation.metrics,
    });
    let logged = false;
    try {
      await insertGroup(parsed, annotation, annotation.sessionChanges, annotation.resync, sink, () => {
        logged = true;
      });
      for (const { message } of parsed) message.ack();
      return false;
    } catch (error) {
      if (parsed.length > 1 && isRejectedByClickHouse(error)) return deliverOneByOne(parsed, annotation, sink, logged);
      throw error;
    }
  } catch (error) {
    log.error("delivery failed; retrying", { messages: parsed.length, ...errorFields(error) });
    for (const { message } of parsed) retry(message, describe(error));
    return annotated;
  }
}

async function deliverOneByOne(
  parsed: readonly Parsed[],
  annotation: Annotation,
  sink: EventSink,
  logged: boolean,
): Promise<boolean> {
  let stalled = false;
  // A visitor's events can span several messages; its sessions' changes are logged once, with the
  // first of them that lands (a second -1/+1 pair would count the session twice) — or not at all
  // when the whole run's log landed before its events were refused.
  const unwritten = new Set(logged ? [] : annotation.sessionChanges);
  const unsynced = new Set(logged ? [] : annotation.resync);
  for (const item of parsed) {
    const own = changesOf([item], [...unwritten]);
    const clients = new Set(item.body.events.map((e) => e.client_id));
    const resync = [...unsynced].filter((s) => clients.has(s.client_id));
    try {
      // Marked as soon as the log lands: a refused events insert after it must not log them again.
      await insertGroup([item], annotation, own, resync, sink, () => {
        for (const c of own) unwritten.delete(c);
        for (const r of resync) unsynced.delete(r);
      });
      item.message.ack();
    } catch (error) {
      log.error("message refused by ClickHouse; retrying", { message_id: item.message.id, ...errorFields(error) });
      retry(item.message, `clickhouse refused the message: ${describe(error)}`);
      stalled = true;
    }
  }
  return stalled;
}

/**
 * Event JSON one delivery holds. A batch of 100 packed messages can carry 100 × MAX_PACKED_BYTES
 * (51 MB), several times an isolate's 128 MB once decoded (bench/consumer.ts saw a 254–305 MB heap),
 * so a batch is delivered in chunks of about this much, one after another.
 */
export const CHUNK_JSON_BYTES = 8_000_000;

const HELD_BACK = "held back: an earlier part of its batch reached the actors but not ClickHouse";

/**
 * Delivers a batch in runs of at most `limit` bytes of event JSON (a larger message is a run of its
 * own), each body decompressed once and held only while its run is delivered. After a run whose
 * events reached the actors but not ClickHouse, the later runs wait for its retry, undelivered:
 * their visitors' session_log rows would otherwise net against a version never logged.
 */
export async function deliverInChunks(
  messages: readonly Message<unknown>[],
  sink: EventSink,
  annotate: Annotate,
  archive: Archive,
  limit = CHUNK_JSON_BYTES,
): Promise<void> {
  let stalled = false;
  let run: Received[] = [];
  let size = 0;
  const flush = async () => {
    if (stalled) for (const r of run) retry(r.message, HELD_BACK);
    else if (run.length > 0) stalled = await deliverReceived(run, sink, annotate, archive);
    run = [];
    size = 0;
  };
  for (const message of messages) {
    if (stalled) {
      retry(message, HELD_BACK);
      continue;
    }
    const r = receive(message);
    if (run.length > 0 && size + jsonLength(r) > limit) await flush();
    run.push(r);
    size += jsonLength(r);
  }
  await flush();
}

/** The Worker's `queue` handler. */
export async function handleEventsBatch(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const config = loadConfig(env);
  try {
    await deliverInChunks(
      batch.messages,
      createClickHouseSink(config),
      (events) => applyToActors(env, events, Date.now()),
      { store: await archiveStore(env), codec: zstdCodec, onArchived: (events) => markLateHours(env, events) },
    );
  } catch (error) {
    await keepLastErrors(batch, env, config.EVENTS_MAX_RETRIES, retryReason, describe(error));
    throw error;
  }
  await keepLastErrors(batch, env, config.EVENTS_MAX_RETRIES, retryReason);
}
