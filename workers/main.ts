/**
 * The one Worker's entry: HTTP routes (app.ts), the queue consumers and the Cron Trigger
 * (consumers/), and the nine actors it hosts (durable-objects/: IngestDO, SessionDO, PropertyDO, RegistryDO,
 * ReplayDO, WarehouseDO, ErasureDO, AccountDO, TeamDO). Data flow and folders: docs/architecture.md.
 */
import { erasureWork } from "../consumers/erasure-work.ts";
import { handleQueue } from "../consumers/queue.ts";
import { handleScheduled } from "../consumers/scheduled.ts";
import { warehouseWork } from "../consumers/warehouse-jobs.ts";
import { ErasureActor } from "../durable-objects/erasure-do.ts";
import { WarehouseActor } from "../durable-objects/warehouse-do.ts";
import { app } from "./app.ts";
import { runQuery } from "./query/run.ts";

export { AccountDO } from "../durable-objects/account-do.ts";
export { IngestDO } from "../durable-objects/ingest-do.ts";
export { PropertyDO } from "../durable-objects/property-do.ts";
export { RegistryDO } from "../durable-objects/registry-do.ts";
export { ReplayDO } from "../durable-objects/replay-do.ts";
export { SessionDO } from "../durable-objects/session-do.ts";
export { TeamDO } from "../durable-objects/team-do.ts";

/** The warehouse's job actor, given its jobs here: actors do not import consumers/ (the layout's rule). */
export class WarehouseDO extends WarehouseActor {
  protected readonly work = warehouseWork;
}

/** A property's GDPR erasures, given their ClickHouse and warehouse work here for the same reason. */
export class ErasureDO extends ErasureActor {
  protected readonly work = erasureWork;
}

export default {
  fetch: app.fetch,
  // The events shards (archive first, then the projections) and their dead-letter queue.
  queue: handleQueue,
  // The digests' Cron asks questions through the query API's executor, which consumers/ may not import.
  scheduled: (controller, env, ctx) => handleScheduled(controller, env, ctx, { runQuery }),
} satisfies ExportedHandler<Env>;
