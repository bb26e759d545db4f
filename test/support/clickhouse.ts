/** Helpers for tests that talk to the run's embedded ClickHouse engine (see global-setup.ts). */
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { inject } from "vitest";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { migrate } from "../../migrations/migrator.ts";

/** A client on a fresh database of its own, so test files never see each other's rows. */
export async function freshDatabase(
  prefix: string,
  options: { migrated?: boolean } = {},
): Promise<{
  client: ClickHouseClient;
  database: string;
  url: string;
}> {
  const url = inject("clickhouseUrl");
  const database = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  await createClient({ url }).command({ query: `CREATE DATABASE ${database}` });
  const client = createClient({ url, database });
  if (options.migrated !== false) await migrate(client, readClickHouseMigrations());
  return { client, database, url };
}

/** Runs a query and returns its rows as objects. */
export async function rows<T>(client: ClickHouseClient, query: string, params?: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: "JSONEachRow" });
  return result.json<T>();
}
