/**
 * The one Worker. tracker ─► POST /collect ─► Queue "events" ─► consumers/ ─► ClickHouse;
 * the query API, actors and archive join here as they are built (see README "The shape").
 */
import { handleEventsBatch } from "../consumers/events-consumer.ts";
import { app } from "./app.ts";

export default {
  fetch: app.fetch,
  queue: handleEventsBatch,
} satisfies ExportedHandler<Env>;
