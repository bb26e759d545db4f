/**
 * Dead letters (issue #18): what the events queues gave up on, kept in the archive store under
 * `dead-letters/` until an operator replays or drops them. Nothing there is deleted without a
 * record of it: a replayed message moves to `replayed/`, a dropped one leaves an audit record.
 *
 *   errors/<message id>.json         the last error, written by the events consumer's last attempt
 *   errors/by-body/<sha-256>.json    the same, by body (in case the dead-letter queue gives new ids)
 *   messages/<id>.json               a dead letter: its body as it arrived and its summary
 *   replayed/<id>.json               the same, once sent back to the events queue
 *   dropped/<id>.json                the audit of a drop: summary, reason, the body's SHA-256 (not the body)
 */
import { z } from "zod";

/**
 * The events shards' dead-letter queue: `events-dlq` on the dev stack, `<prefix>-events-dlq` in a
 * Cloudflare environment (queue names are the account's, so staging's and production's differ).
 * The Worker's queue handler routes by it; `npm run deploy` refuses a DLQ it would not recognise.
 */
export const isDeadLetterQueue = (queue: string): boolean => queue === "events-dlq" || queue.endsWith("-events-dlq");

export const DEAD_LETTER_ROOT = "dead-letters/";
export const MESSAGES_PREFIX = `${DEAD_LETTER_ROOT}messages/`;
export const REPLAYED_PREFIX = `${DEAD_LETTER_ROOT}replayed/`;
export const DROPPED_PREFIX = `${DEAD_LETTER_ROOT}dropped/`;

/** Queue message ids (Cloudflare's are 32 hex digits); nothing that could leave its folder. */
export const DeadLetterIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,128}$/, "a dead letter id is 1–128 of A–Z a–z 0–9 _ -");

export const messageKey = (id: string) => `${MESSAGES_PREFIX}${id}.json`;
export const replayedKey = (id: string) => `${REPLAYED_PREFIX}${id}.json`;
export const droppedKey = (id: string) => `${DROPPED_PREFIX}${id}.json`;
export const errorKey = (id: string) => `${DEAD_LETTER_ROOT}errors/${id}.json`;
export const errorByBodyKey = (sha256: string) => `${DEAD_LETTER_ROOT}errors/by-body/${sha256}.json`;
/** The id a key under one of the record folders names. */
export const idOfKey = (key: string) => key.slice(key.lastIndexOf("/") + 1, -".json".length);

/** A queue body as it arrived, kept so a replay sends the identical body with its content type. */
export const StoredBodySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("text"), text: z.string() }),
  /** zstd-packed events (platform/queue-codec.ts), or any other bytes. */
  z.object({ kind: z.literal("bytes"), base64: z.string() }),
  z.object({ kind: z.literal("json"), value: z.unknown() }),
]);
export type StoredBody = z.infer<typeof StoredBodySchema>;

/** Why the events consumer gave up on a message: written on its last attempt only. */
export const LastErrorSchema = z.object({
  id: z.string(),
  error: z.string(),
  attempts: z.number().int(),
  queue: z.string(),
  at: z.iso.datetime(),
  body_sha256: z.string(),
});
export type LastError = z.infer<typeof LastErrorSchema>;

/** One dead letter as the list shows it. */
export const DeadLetterSummarySchema = z.object({
  id: DeadLetterIdSchema,
  dead_lettered_at: z.iso.datetime(),
  /** The events queue (shard) it came from; "unknown" when its last error was not kept. */
  queue: z.string(),
  attempts: z.number().int(),
  last_error: z.string(),
  /** Events the body holds; 0 when it does not decode. */
  events: z.number().int(),
  property_ids: z.array(z.string()),
  /** The body's size as the queue billed it. */
  bytes: z.number().int(),
});
export type DeadLetterSummary = z.infer<typeof DeadLetterSummarySchema>;

export const DeadLetterRecordSchema = DeadLetterSummarySchema.extend({
  body_sha256: z.string(),
  /** False for a poison body that does not decode as an events message (it cannot be replayed). */
  decodes: z.boolean(),
  body: StoredBodySchema,
});
export type DeadLetterRecord = z.infer<typeof DeadLetterRecordSchema>;

export const ReplayedRecordSchema = DeadLetterRecordSchema.extend({ replayed_at: z.iso.datetime() });
export type ReplayedRecord = z.infer<typeof ReplayedRecordSchema>;

export const DroppedRecordSchema = DeadLetterSummarySchema.extend({
  body_sha256: z.string(),
  reason: z.string(),
  dropped_at: z.iso.datetime(),
});
export type DroppedRecord = z.infer<typeof DroppedRecordSchema>;

/** The summary of a stored record (its body and digest left out). */
export function summaryOf(record: DeadLetterSummary): DeadLetterSummary {
  const { id, dead_lettered_at, queue, attempts, last_error, events, property_ids, bytes } = record;
  return { id, dead_lettered_at, queue, attempts, last_error, events, property_ids, bytes };
}

// --- The admin API's requests and answers (workers/ops/dead-letters.ts, scripts/dlq.ts) ---

export const DropRequestSchema = z.strictObject({ reason: z.string().trim().min(1).max(500) });

export const DeadLetterListSchema = z.object({
  dead_letters: z.array(DeadLetterSummarySchema),
  cursor: z.string().nullable(),
});
export type DeadLetterList = z.infer<typeof DeadLetterListSchema>;

/** Events shown by `GET …/:id`; a body that does not decode shows its first bytes instead. */
export const PREVIEW_EVENTS = 20;
export const RAW_PREVIEW_CHARS = 2048;

export const DeadLetterDetailSchema = DeadLetterSummarySchema.extend({
  events_preview: z.array(z.record(z.string(), z.unknown())).optional(),
  raw_preview: z.string().optional(),
});
export type DeadLetterDetail = z.infer<typeof DeadLetterDetailSchema>;

export const ReplayAnswerSchema = z.object({ replayed: z.string(), events: z.number().int() });

export const ReplayAllAnswerSchema = z.object({
  replayed: z.array(z.string()),
  /** Dead letters that do not decode: left in place for `drop`. */
  skipped: z.array(z.string()),
  events: z.number().int(),
  cursor: z.string().nullable(),
});
export type ReplayAllAnswer = z.infer<typeof ReplayAllAnswerSchema>;

export const AuditEntrySchema = DeadLetterSummarySchema.extend({
  action: z.enum(["replayed", "dropped"]),
  at: z.iso.datetime(),
  reason: z.string().optional(),
  body_sha256: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntrySchema>;

export const DropAnswerSchema = z.object({ dropped: z.string(), audit: DroppedRecordSchema });

export const AuditListSchema = z.object({ audit: z.array(AuditEntrySchema) });
export type AuditList = z.infer<typeof AuditListSchema>;

/** `limit` query parameters: 1..max, default `fallback`. */
export const limitSchema = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);
