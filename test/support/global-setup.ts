/**
 * One embedded ClickHouse engine for the whole test run (chDB binds one data directory per process,
 * and this is the one process that outlives every test file). Each test file makes its own database.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import type { TestProject } from "vitest/node";
import { startClickHouseServer } from "../../dev/clickhouse-server.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { migrate } from "../../migrations/migrator.ts";

declare module "vitest" {
  export interface ProvidedContext {
    clickhouseUrl: string;
  }
}

export const WORKERS_TEST_DATABASE = "tally_workers_test";

export default async function setup(project: TestProject) {
  const dataDir = mkdtempSync(join(tmpdir(), "tally-test-clickhouse-"));
  const server = await startClickHouseServer({ dataDir, port: Number(process.env.TALLY_TEST_CLICKHOUSE_PORT ?? 0) });
  // The workers project's bindings point here: the consumer running in workerd writes to this database.
  const admin = createClient({ url: server.url });
  await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${WORKERS_TEST_DATABASE}` });
  await migrate(createClient({ url: server.url, database: WORKERS_TEST_DATABASE }), readClickHouseMigrations());
  project.provide("clickhouseUrl", server.url);
  return async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
