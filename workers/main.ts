/**
 * The one Worker. tracker ─► POST /collect ─► Queue "events" ─► consumers/ ─► ClickHouse;
 * the actors (PropertyDO, RegistryDO) are exported from here (see README "The shape").
 */
import { handleEventsBatch } from "../consumers/events-consumer.ts";
import { app } from "./app.ts";

export { PropertyDO } from "../durable-objects/property-do.ts";
export { RegistryDO } from "../durable-objects/registry-do.ts";
export { SessionDO } from "../durable-objects/session-do.ts";

export default {
  fetch: app.fetch,
  queue: handleEventsBatch,
} satisfies ExportedHandler<Env>;
