/** Writes event rows to ClickHouse `events` with the official web client (works in Workers and Node). */
import { type ClickHouseClient, ClickHouseError, createClient } from "@clickhouse/client-web";
import type { EventRow } from "../core/clickhouse-row.ts";
import type { Config } from "../core/config.ts";

/** Where the consumer puts rows; one insert per call, idempotent for a repeated token. */
export interface EventSink {
  insert(rows: readonly EventRow[], dedupToken: string): Promise<void>;
}

/** True when ClickHouse itself refused the data (retrying the same rows cannot help). */
export function isRejectedByClickHouse(error: unknown): boolean {
  return error instanceof ClickHouseError;
}

const clients = new WeakMap<Config, ClickHouseClient>();

/** One client per isolate and configuration. */
export function clickHouseClient(config: Config): ClickHouseClient {
  let client = clients.get(config);
  if (!client) {
    client = createClient({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      database: config.CLICKHOUSE_DATABASE,
      // workerd rejects fetch's `keepalive` flag; connection reuse is the runtime's business.
      keep_alive: { enabled: false },
      request_timeout: 30_000,
    });
    clients.set(config, client);
  }
  return client;
}

/** The production sink: synchronous inserts (no async_insert, so an ack means the rows are stored). */
export function createClickHouseSink(config: Config): EventSink {
  const client = clickHouseClient(config);
  return {
    async insert(rows, dedupToken) {
      await client.insert({
        table: "events",
        values: [...rows],
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplication_token: dedupToken, async_insert: 0 },
      });
    },
  };
}
