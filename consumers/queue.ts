/**
 * The Worker's one `queue` handler: each batch goes by its queue's name. The events shards
 * (`events`, `events-<n>`) are the pipeline; `events-dlq` (`<prefix>-events-dlq` in an environment) holds what they gave up on after
 * max_retries (consumers/dead-letters.ts keeps each in R2 until an operator replays or drops it).
 * Every batch is measured (messages, redeliveries, each message's age) and the isolate's pipeline
 * metrics are written after it, at most every OPS_FLUSH_SECONDS.
 */
import { isDeadLetterQueue } from "../core/ops/dead-letter.ts";
import type { Labels } from "../core/ops/metric-names.ts";
import { newRequestId, withRequestId } from "../platform/log.ts";
import { countMetric, flushOpsMetrics, observeMetric } from "../platform/ops-metrics.ts";
import { handleDeadLetters } from "./dead-letters.ts";
import { handleEventsBatch } from "./events-consumer.ts";

/** The dev stack's dead-letter queue of every events shard (wrangler.toml). */
export const DEAD_LETTER_QUEUE = "events-dlq";

export function handleQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext): Promise<void> {
  return withRequestId(newRequestId(), async () => {
    measureBatch(batch, Date.now());
    try {
      if (isDeadLetterQueue(batch.queue)) return await handleDeadLetters(batch, env, ctx);
      return await handleEventsBatch(batch, env, ctx);
    } finally {
      ctx.waitUntil(flushOpsMetrics(env).catch(() => undefined));
    }
  });
}

/** Queue lag (a message's age: sent at the edge → consumed here), deliveries and redeliveries. */
function measureBatch(batch: MessageBatch<unknown>, now: number): void {
  const labels: Labels = { queue: batch.queue };
  countMetric("consumer_messages", labels, batch.messages.length);
  let retried = 0;
  for (const m of batch.messages) {
    if (m.attempts > 1) retried++;
    observeMetric("queue_lag_ms", now - m.timestamp.getTime(), labels);
  }
  if (retried > 0) countMetric("consumer_retries", labels, retried);
}
