/**
 * The one Worker's entry: HTTP routes (app.ts), the queue consumers and the Cron Trigger
 * (consumers/), and the four actors it hosts (durable-objects/: SessionDO, PropertyDO, RegistryDO,
 * ReplayDO). Data flow and folders: docs/architecture.md.
 */
import { handleArchiveBatch } from "../consumers/archive-consumer.ts";
import { handleEventsBatch } from "../consumers/events-consumer.ts";
import { handleScheduled } from "../consumers/scheduled.ts";
import { app } from "./app.ts";

export { PropertyDO } from "../durable-objects/property-do.ts";
export { RegistryDO } from "../durable-objects/registry-do.ts";
export { ReplayDO } from "../durable-objects/replay-do.ts";
export { SessionDO } from "../durable-objects/session-do.ts";

/** `archive` and its shards `archive-<n>`; every other consumed queue is an events shard. */
export function isArchiveQueue(name: string): boolean {
  return /^archive(-\d+)?$/.test(name);
}

export default {
  fetch: app.fetch,
  queue: (batch, env, ctx) =>
    isArchiveQueue(batch.queue) ? handleArchiveBatch(batch, env, ctx) : handleEventsBatch(batch, env, ctx),
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env>;
