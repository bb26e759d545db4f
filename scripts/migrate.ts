/**
 * `npm run migrate`: applies pending ClickHouse migrations to CLICKHOUSE_URL (default: the embedded
 * dev engine on 127.0.0.1:8123) as CLICKHOUSE_USER/CLICKHOUSE_PASSWORD (unset against an engine on
 * this machine: the writer's generated password in TALLY_DATA_DIR, default .data), then pending
 * warehouse migrations (migrations/warehouse) to WAREHOUSE_URL (default: the embedded dev PostgreSQL
 * on 127.0.0.1:5439; empty skips the warehouse).
 *
 * The same history runs on three ClickHouse targets (migrations/clickhouse-render.ts): `single`
 * (one server, as in development), `cluster` (a self-managed cluster: Replicated `_local` tables ON
 * CLUSTER behind Distributed ones) and `cloud` (ClickHouse Cloud, SharedMergeTree), chosen by
 * `--target` or CLICKHOUSE_TARGET; by default `cluster` when CLICKHOUSE_CLUSTER (or `--cluster`)
 * names one, else `single`. Production runs it against the cluster or Cloud and Redshift
 * (`?sslmode=require`).
 *
 *   --print [--target T] [--cluster NAME] [--database DB]   every statement of every migration for T
 *                                                           (no connection; cluster default `tally`)
 *   --print --users [--target T] …                          the query and writer users' SQL
 */
import { parseArgs } from "node:util";
import { ClickHouseError, createClient } from "@clickhouse/client-web";
import { writerLogin } from "../dev/servers/clickhouse-users.ts";
import { WAREHOUSE_DEFAULTS, warehouseUrl } from "../dev/servers/warehouse-server.ts";
import { printAccess, printMigrations } from "../migrations/clickhouse-print.ts";
import { clickHouseTarget } from "../migrations/clickhouse-target.ts";
import { chooseTopology, DEFAULT_CLUSTER, type Topology } from "../migrations/clickhouse-topology.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { type MigrationReport, migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";

const { values: args } = parseArgs({
  options: {
    print: { type: "boolean", default: false },
    users: { type: "boolean", default: false },
    target: { type: "string" },
    cluster: { type: "string" },
    database: { type: "string" },
  },
});
const database = args.database ?? (process.env.CLICKHOUSE_DATABASE || "default");

let topology: Topology | undefined;
try {
  topology = chooseTopology({ ...args, database }, process.env, args.print ? DEFAULT_CLUSTER : undefined);
  if (args.users && !args.print) throw new Error("--users only prints (with --print): run its SQL as an administrator");
} catch (error) {
  console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 2;
}

if (topology && args.print) print(topology);
else if (topology) await apply(topology);

function print(target: Topology): void {
  try {
    process.stdout.write(
      `${args.users ? printAccess(target, database) : printMigrations(readClickHouseMigrations(), target)}\n`,
    );
  } catch (error) {
    console.error(`migrate: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}

async function apply(target: Topology): Promise<void> {
  const login = writerLogin();
  const client = createClient({
    url: login.url,
    username: login.username,
    password: login.password,
    database,
  });
  if (login.from) console.log(`ClickHouse  as ${login.username}, password from ${login.from}`);
  if (target.kind !== "single")
    console.log(`ClickHouse  target ${target.kind === "cluster" ? `cluster '${target.cluster}'` : "cloud"}`);
  const warehouse = process.env.WAREHOUSE_URL ?? warehouseUrl({ port: WAREHOUSE_DEFAULTS.port });

  if (await run("ClickHouse", () => migrate(clickHouseTarget(client, target), readClickHouseMigrations())))
    if (warehouse === "") console.log("warehouse   skipped (WAREHOUSE_URL is empty)");
    else await run("warehouse", () => migrateWarehouse(warehouse, readWarehouseMigrations()));
}

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
