/**
 * The erasure's follow-up pass waits out the events queue's whole retry schedule: an event accepted
 * before the request is in ClickHouse by then, however many times its batch was retried, as
 * wrangler.toml's consumer and consumers/backoff.ts set them.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { backoffSeconds } from "../../consumers/backoff.ts";
import { FOLLOW_UP_DELAY_MS } from "../../core/privacy/erasure.ts";

function eventsConsumer(): { maxRetries: number; batchTimeout: number } {
  const toml = readFileSync("wrangler.toml", "utf8");
  const block =
    toml
      .split("[[queues.consumers]]")
      .slice(1)
      .find((b) => /^\s*queue\s*=\s*"events"\s*$/m.test(b)) ?? "";
  const value = (name: string) => Number(new RegExp(`^${name}\\s*=\\s*(\\d+)`, "m").exec(block)?.[1]);
  return { maxRetries: value("max_retries"), batchTimeout: value("max_batch_timeout") };
}

it("waits longer than the events queue's batch window plus every retry's backoff", () => {
  const { maxRetries, batchTimeout } = eventsConsumer();
  expect(maxRetries).toBeGreaterThan(0);
  let seconds = batchTimeout;
  for (let attempt = 1; attempt <= maxRetries; attempt++) seconds += backoffSeconds(attempt);
  expect(seconds).toBe(2_436);
  expect(FOLLOW_UP_DELAY_MS).toBeGreaterThan(seconds * 1000);
});
