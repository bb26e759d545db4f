/**
 * Dead letters in the archive store (layout and records: core/ops/dead-letter.ts). The events
 * consumer keeps a message's last error here, the events-dlq consumer keeps the message, and the
 * admin routes list, replay and drop them.
 */
import { Buffer } from "node:buffer";
import type { z } from "zod";
import { type ArchiveStore, listAll } from "../core/archive/store.ts";
import { sha256Hex } from "../core/hash.ts";
import { decodeEventsMessage, type EventsMessage } from "../core/ingest/queue-message.ts";
import {
  type AuditEntry,
  type DeadLetterDetail,
  type DeadLetterRecord,
  DeadLetterRecordSchema,
  DROPPED_PREFIX,
  type DroppedRecord,
  DroppedRecordSchema,
  droppedKey,
  errorByBodyKey,
  errorKey,
  idOfKey,
  type LastError,
  LastErrorSchema,
  MESSAGES_PREFIX,
  messageKey,
  PREVIEW_EVENTS,
  RAW_PREVIEW_CHARS,
  REPLAYED_PREFIX,
  type ReplayedRecord,
  ReplayedRecordSchema,
  replayedKey,
  type StoredBody,
  summaryOf,
} from "../core/ops/dead-letter.ts";
import { queueFor } from "./events-queue.ts";
import { messageBody } from "./queue-codec.ts";

const encoder = new TextEncoder();

function asBytes(body: unknown): Uint8Array | null {
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return null;
}

/** A queue body as stored: text, bytes (base64) or a structured value, as it arrived. */
export function storeBody(body: unknown): StoredBody {
  const bytes = asBytes(body);
  if (bytes) return { kind: "bytes", base64: Buffer.from(bytes).toString("base64") };
  if (typeof body === "string") return { kind: "text", text: body };
  return { kind: "json", value: body };
}

/** The body to send again, with the content type it travelled with. */
export function restoreBody(stored: StoredBody): { body: unknown; contentType: QueueContentType } {
  if (stored.kind === "bytes")
    return { body: new Uint8Array(Buffer.from(stored.base64, "base64")), contentType: "bytes" };
  if (stored.kind === "text") return { body: stored.text, contentType: "text" };
  return { body: stored.value, contentType: "json" };
}

/** SHA-256 of a body as it travels (bytes as they are, text as UTF-8, anything else as JSON). */
export function bodyDigest(body: unknown): Promise<string> {
  const bytes = asBytes(body);
  if (bytes) return sha256Hex(bytes);
  return sha256Hex(typeof body === "string" ? body : (JSON.stringify(body) ?? "undefined"));
}

/** The events message a body holds (zstd-packed or not), or null for a poison body. */
export function decodeBody(body: unknown): EventsMessage | null {
  const result = decodeEventsMessage(messageBody(body));
  return result.success ? result.data : null;
}

/** A dead letter with its first events, or the first characters of a body that does not decode. */
export function detailOf(record: DeadLetterRecord): DeadLetterDetail {
  const { body } = restoreBody(record.body);
  const decoded = decodeBody(body);
  if (decoded) return { ...summaryOf(record), events_preview: decoded.events.slice(0, PREVIEW_EVENTS) };
  const text = messageBody(body);
  const raw =
    typeof text === "string"
      ? text
      : text === undefined && record.body.kind === "bytes"
        ? `base64:${record.body.base64}`
        : (JSON.stringify(text) ?? "undefined");
  return { ...summaryOf(record), raw_preview: raw.slice(0, RAW_PREVIEW_CHARS) };
}

const asJson = (value: unknown) => encoder.encode(JSON.stringify(value));

async function readJson<S extends z.ZodType>(store: ArchiveStore, key: string, schema: S): Promise<z.infer<S> | null> {
  const hit = await store.get(key);
  if (!hit) return null;
  return schema.parse(JSON.parse(new TextDecoder().decode(hit.body)));
}

/** Keeps each last error by message id and by body, so the dead letter finds it whichever id it gets. */
export async function keepLastErrors(store: ArchiveStore, errors: readonly LastError[]): Promise<void> {
  await Promise.all(
    errors.flatMap((e) => [store.put(errorKey(e.id), asJson(e)), store.put(errorByBodyKey(e.body_sha256), asJson(e))]),
  );
}

export async function lastErrorOf(store: ArchiveStore, id: string, sha256: string): Promise<LastError | null> {
  return (
    (await readJson(store, errorKey(id), LastErrorSchema)) ??
    (await readJson(store, errorByBodyKey(sha256), LastErrorSchema))
  );
}

/** Removes a last error once its dead letter holds it (a copy, so nothing is lost). */
export async function forgetLastError(store: ArchiveStore, id: string, error: LastError | null, sha256: string) {
  await store.delete([errorKey(id), errorKey(error?.id ?? id), errorByBodyKey(sha256)]);
}

/** Writes a dead letter unless it is there already (a redelivery); true when this call wrote it. */
export async function keepDeadLetter(store: ArchiveStore, record: DeadLetterRecord): Promise<boolean> {
  // Looked for first as well: an S3-compatible store without conditional writes (s3rver) ignores `absent`.
  if (await store.get(messageKey(record.id))) return false;
  return (await store.put(messageKey(record.id), asJson(record), { absent: true })) !== null;
}

export function readDeadLetter(store: ArchiveStore, id: string): Promise<DeadLetterRecord | null> {
  return readJson(store, messageKey(id), DeadLetterRecordSchema);
}

/** Up to `limit` dead letters after the id `after`, in id order, and the cursor for the next page. */
export async function pageOfDeadLetters(
  store: ArchiveStore,
  after: string | undefined,
  limit: number,
): Promise<{ records: DeadLetterRecord[]; cursor: string | null }> {
  // Ids, not store cursors: a page stays right when replays and drops remove records before it.
  const afterKey = after === undefined ? "" : messageKey(after);
  const keys: string[] = [];
  let more = false;
  let cursor: string | undefined;
  pages: do {
    const page = await store.list(MESSAGES_PREFIX, cursor);
    for (const { key } of page.objects) {
      if (key <= afterKey) continue;
      if (keys.length === limit) {
        more = true;
        break pages;
      }
      keys.push(key);
    }
    cursor = page.cursor;
  } while (cursor);
  const records = await Promise.all(keys.map((key) => readDeadLetter(store, idOfKey(key))));
  const kept = records.filter((r): r is DeadLetterRecord => r !== null);
  const last = keys.at(-1);
  return { records: kept, cursor: more && last ? idOfKey(last) : null };
}

/**
 * Sends a dead letter's body back to the events queue (shard 0: the consumer does not care which),
 * then moves its record to replayed/. Sent first: a failure in between leaves the record to be
 * replayed again, which is safe (event ids are kept; the consumer stores each event once).
 */
export async function replayDeadLetter(
  env: Env,
  store: ArchiveStore,
  record: DeadLetterRecord,
  now: number,
): Promise<ReplayedRecord> {
  const { body, contentType } = restoreBody(record.body);
  await queueFor(env, 0).send(body, { contentType });
  const replayed: ReplayedRecord = { ...record, replayed_at: new Date(now).toISOString() };
  await store.put(replayedKey(record.id), asJson(replayed));
  await store.delete([messageKey(record.id)]);
  return replayed;
}

/** Gives a dead letter's events up: the audit record (summary, reason, the body's digest) first, then the message. */
export async function dropDeadLetter(
  store: ArchiveStore,
  record: DeadLetterRecord,
  reason: string,
  now: number,
): Promise<DroppedRecord> {
  const audit: DroppedRecord = {
    ...summaryOf(record),
    body_sha256: record.body_sha256,
    reason,
    dropped_at: new Date(now).toISOString(),
  };
  await store.put(droppedKey(record.id), asJson(audit));
  await store.delete([messageKey(record.id)]);
  return audit;
}

/** Replays and drops, newest first (by when their record was written). */
export async function auditEntries(store: ArchiveStore, limit: number): Promise<AuditEntry[]> {
  const objects = [...(await listAll(store, REPLAYED_PREFIX)), ...(await listAll(store, DROPPED_PREFIX))];
  objects.sort((a, b) => b.uploaded - a.uploaded || (a.key < b.key ? 1 : -1));
  const entries = await Promise.all(
    objects.slice(0, limit).map(async ({ key }): Promise<AuditEntry | null> => {
      if (key.startsWith(REPLAYED_PREFIX)) {
        const r = await readJson(store, key, ReplayedRecordSchema);
        return r && { ...summaryOf(r), action: "replayed", at: r.replayed_at, body_sha256: r.body_sha256 };
      }
      const d = await readJson(store, key, DroppedRecordSchema);
      return (
        d && { ...summaryOf(d), action: "dropped", at: d.dropped_at, reason: d.reason, body_sha256: d.body_sha256 }
      );
    }),
  );
  return entries.filter((e): e is AuditEntry => e !== null);
}
