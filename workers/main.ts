/**
 * The one Worker's entry: HTTP routes (app.ts), the queue consumers and the Cron Trigger
 * (consumers/), and the five actors it hosts (durable-objects/: IngestDO, SessionDO, PropertyDO, RegistryDO,
 * ReplayDO). Data flow and folders: docs/architecture.md.
 */
import { handleEventsBatch } from "../consumers/events-consumer.ts";
import { handleScheduled } from "../consumers/scheduled.ts";
import { app } from "./app.ts";

export { IngestDO } from "../durable-objects/ingest-do.ts";
export { PropertyDO } from "../durable-objects/property-do.ts";
export { RegistryDO } from "../durable-objects/registry-do.ts";
export { ReplayDO } from "../durable-objects/replay-do.ts";
export { SessionDO } from "../durable-objects/session-do.ts";

export default {
  fetch: app.fetch,
  // Every consumed queue is an events shard; its consumer archives each batch before acting on it.
  queue: handleEventsBatch,
  scheduled: handleScheduled,
} satisfies ExportedHandler<Env>;
