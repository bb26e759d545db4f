/**
 * Queue "events-dlq": each message the events queues gave up on is kept in the archive store
 * (dead-letters/messages/<id>.json: its body exactly as it arrived, so a replay sends the same
 * bytes, with the last error the events consumer kept) until an operator replays or drops it
 * (workers/ops/dead-letters.ts, `npm run dlq`). A message is acked only once its record is
 * written; a redelivery finds it there and changes nothing.
 */
import type { ArchiveStore } from "../core/archive/store.ts";
import { DeadLetterIdSchema, type DeadLetterRecord, type LastError } from "../core/ops/dead-letter.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { loadConfig } from "../platform/config.ts";
import {
  bodyDigest,
  decodeBody,
  forgetLastError,
  keepDeadLetter,
  lastErrorOf,
  storeBody,
  keepLastErrors as writeLastErrors,
} from "../platform/dead-letters.ts";
import { errorFields, log } from "../platform/log.ts";
import { countMetric } from "../platform/ops-metrics.ts";
import { bodyBytes } from "../platform/queue-codec.ts";

/** An error as a dead letter's `last_error` shows it. */
export const describeError = (error: unknown) =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1000);

/**
 * The events consumer's side: keeps in R2 why each message on its last attempt (past
 * EVENTS_MAX_RETRIES) was retried, before the queue moves it to events-dlq, where handleDeadLetters
 * joins it to the message. Nothing is written for a batch without one. `failure` is the error of a
 * delivery that threw: the reason of every message it left without one. A failed write is logged,
 * not thrown: the dead letter then says "unknown", and the messages' fate must not depend on it.
 */
export async function keepLastErrors(
  batch: MessageBatch<unknown>,
  env: Env,
  maxRetries: number,
  reasonOf: (message: Message<unknown>) => string | undefined,
  failure?: string,
): Promise<void> {
  const last = batch.messages.filter((m) => m.attempts > maxRetries && (failure ?? reasonOf(m)) !== undefined);
  if (last.length === 0) return;
  const at = new Date().toISOString();
  try {
    const errors = await Promise.all(
      last.map(async (m) => ({
        id: m.id,
        error: reasonOf(m) ?? failure ?? "unknown",
        attempts: m.attempts,
        queue: batch.queue,
        at,
        body_sha256: await bodyDigest(m.body),
      })),
    );
    await writeLastErrors(await archiveStore(env), errors);
  } catch (error) {
    log.error("last errors not kept", { messages: last.length, ...errorFields(error) });
  }
}

/** The record a dead letter is kept as. `attempts` is the events queue's, from the last error when kept. */
export function deadLetterRecord(
  message: Message<unknown>,
  sha256: string,
  lastError: LastError | null,
  givenUpAfter: number,
  now: number,
): DeadLetterRecord {
  const decoded = decodeBody(message.body);
  const attempts = lastError?.attempts ?? givenUpAfter;
  return {
    // An id outside the pattern (not one the queues give) is replaced by the body's digest.
    id: DeadLetterIdSchema.safeParse(message.id).success ? message.id : `sha256-${sha256.slice(0, 64)}`,
    dead_lettered_at: new Date(now).toISOString(),
    queue: lastError?.queue ?? "unknown",
    attempts,
    last_error: lastError?.error ?? `unknown: gave up after ${attempts} attempts`,
    events: decoded?.events.length ?? 0,
    property_ids: [...new Set(decoded?.events.map((e) => e.property_id) ?? [])].sort(),
    bytes: message.body === undefined ? 0 : bodyBytes(message.body),
    body_sha256: sha256,
    decodes: decoded !== null,
    body: storeBody(message.body),
  };
}

async function keepOne(store: ArchiveStore, message: Message<unknown>, givenUpAfter: number): Promise<void> {
  const sha256 = await bodyDigest(message.body);
  const lastError = await lastErrorOf(store, message.id, sha256);
  const record = deadLetterRecord(message, sha256, lastError, givenUpAfter, Date.now());
  const written = await keepDeadLetter(store, record);
  if (written) {
    countMetric("dead_lettered", { queue: record.queue });
    log.warn("message dead-lettered", {
      dead_letter_id: record.id,
      queue: record.queue,
      events: record.events,
      last_error: record.last_error,
    });
  }
  // The record holds the last error now; its own copies go (a failure here only leaves them behind).
  await forgetLastError(store, message.id, lastError, sha256).catch((error) =>
    log.warn("dead letter's last error not removed", { dead_letter_id: record.id, ...errorFields(error) }),
  );
}

/** Queue "events-dlq": each dead-lettered message kept in R2 until an operator replays or drops it (issue #18). */
export async function handleDeadLetters(batch: MessageBatch<unknown>, env: Env, _ctx: ExecutionContext): Promise<void> {
  const givenUpAfter = loadConfig(env).EVENTS_MAX_RETRIES + 1;
  let store: ArchiveStore;
  try {
    store = await archiveStore(env);
  } catch (error) {
    log.error("dead letters cannot be kept: no archive store; retrying", errorFields(error));
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await keepOne(store, message, givenUpAfter);
        message.ack();
      } catch (error) {
        log.error("dead letter not kept; retrying", { message_id: message.id, ...errorFields(error) });
        message.retry({ delaySeconds: 30 });
      }
    }),
  );
}
