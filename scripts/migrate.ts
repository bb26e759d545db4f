/**
 * `npm run migrate`: applies pending ClickHouse migrations to CLICKHOUSE_URL (default: the embedded
 * dev engine on 127.0.0.1:8123), then pending warehouse migrations (migrations/warehouse) to
 * WAREHOUSE_URL (default: the embedded dev PostgreSQL on 127.0.0.1:5439; empty skips the warehouse).
 * Production runs the same command against ClickHouse Cloud and Redshift (`?sslmode=require`).
 */
import { createClient } from "@clickhouse/client-web";
import { WAREHOUSE_DEFAULTS, warehouseUrl } from "../dev/servers/warehouse-server.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { type MigrationReport, migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";

const client = createClient({
  url: process.env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123",
  username: process.env.CLICKHOUSE_USER ?? "default",
  password: process.env.CLICKHOUSE_PASSWORD ?? "",
  database: process.env.CLICKHOUSE_DATABASE ?? "default",
});
const warehouse = process.env.WAREHOUSE_URL ?? warehouseUrl({ port: WAREHOUSE_DEFAULTS.port });

if (await run("ClickHouse", () => migrate(client, readClickHouseMigrations())))
  if (warehouse === "") console.log("warehouse   skipped (WAREHOUSE_URL is empty)");
  else await run("warehouse", () => migrateWarehouse(warehouse, readWarehouseMigrations()));

/** Applies one database's migrations and says what happened; false (exit code 1) when it failed. */
async function run(where: string, apply: () => Promise<MigrationReport>): Promise<boolean> {
  try {
    const report = await apply();
    for (const name of report.applied) console.log(`${where.padEnd(11)} applied  ${name}`);
    console.log(`${where.padEnd(11)} ${report.applied.length} applied, ${report.skipped.length} already in place`);
    return true;
  } catch (error) {
    console.error(`${where.padEnd(11)} migrate failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return false;
  }
}
