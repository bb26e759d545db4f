/**
 * `npm run migrate`: applies pending ClickHouse migrations to CLICKHOUSE_URL (default: the embedded
 * dev engine on 127.0.0.1:8123) as CLICKHOUSE_USER/CLICKHOUSE_PASSWORD (unset against an engine on
 * this machine: the writer's generated password in TALLY_DATA_DIR, default .data), then pending
 * warehouse migrations (migrations/warehouse) to WAREHOUSE_URL (default: the embedded dev PostgreSQL
 * on 127.0.0.1:5439; empty skips the warehouse).
 * Production runs the same command against ClickHouse Cloud and Redshift (`?sslmode=require`).
 */
import { ClickHouseError, createClient } from "@clickhouse/client-web";
import { writerLogin } from "../dev/servers/clickhouse-users.ts";
import { WAREHOUSE_DEFAULTS, warehouseUrl } from "../dev/servers/warehouse-server.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { type MigrationReport, migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";

const login = writerLogin();
const client = createClient({
  url: login.url,
  username: login.username,
  password: login.password,
  database: process.env.CLICKHOUSE_DATABASE ?? "default",
});
if (login.from) console.log(`ClickHouse  as ${login.username}, password from ${login.from}`);
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
    const message = error instanceof Error ? error.message : String(error);
    // 516, AUTHENTICATION_FAILED. The dev engine's passwords are per data folder: a stack started elsewhere has its own.
    const hint =
      error instanceof ClickHouseError && error.code === "516"
        ? "\n            set CLICKHOUSE_PASSWORD, or TALLY_DATA_DIR to the data folder of the `npm run dev` that started it"
        : "";
    console.error(`${where.padEnd(11)} migrate failed: ${message}${hint}`);
    process.exitCode = 1;
    return false;
  }
}
