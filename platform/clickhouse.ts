/** One ClickHouse client per isolate and configuration (the official web client works in workerd). */
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import type { Config } from "../core/config.ts";

const clients = new WeakMap<Config, ClickHouseClient>();

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
