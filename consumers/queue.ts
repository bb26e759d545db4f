/**
 * The Worker's one `queue` handler: each batch goes by its queue's name. The events shards
 * (`events`, `events-<n>`) are the pipeline; `events-dlq` holds what they gave up on after
 * max_retries (consumers/dead-letters.ts keeps each in R2 until an operator replays or drops it).
 */
import { log, newRequestId, withRequestId } from "../platform/log.ts";
import { handleDeadLetters } from "./dead-letters.ts";
import { handleEventsBatch } from "./events-consumer.ts";

/** The dead-letter queue of every events shard (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "events-dlq";

export function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  return withRequestId(newRequestId(), async () => {
    if (batch.queue === DEAD_LETTER_QUEUE) return handleDeadLetters(batch, env, ctx);
    log.info("events batch", { queue: batch.queue, messages: batch.messages.length });
    return handleEventsBatch(batch, env, ctx);
  });
}
