/**
 * `npm run migrate`: applies pending ClickHouse migrations to CLICKHOUSE_URL (default: the embedded
 * dev engine on 127.0.0.1:8123). Production runs the same command against ClickHouse Cloud.
 */
import { createClient } from "@clickhouse/client-web";
import { readClickHouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";

const client = createClient({
  url: process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123",
  username: process.env.CLICKHOUSE_USER ?? "default",
  password: process.env.CLICKHOUSE_PASSWORD ?? "",
  database: process.env.CLICKHOUSE_DATABASE ?? "default",
});
try {
  const report = await migrate(client, readClickHouseMigrations());
  for (const name of report.applied) console.log(`applied  ${name}`);
  console.log(`${report.applied.length} applied, ${report.skipped.length} already in place`);
} catch (error) {
  console.error(`migrate failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
