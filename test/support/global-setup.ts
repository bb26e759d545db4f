/**
 * One embedded ClickHouse engine for the whole test run (chDB binds one data directory per process,
 * and this is the one process that outlives every test file). Each test file makes its own database.
 * Also the Upstash REST adapter over the local Redis, for the query cache's tests.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import type { TestProject } from "vitest/node";
import { startClickHouseServer } from "../../dev/clickhouse-server.ts";
import { type RunningUpstashServer, startUpstashServer } from "../../dev/upstash-server.ts";
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
  // Without Redis only the Upstash tests fail (saying why); everything else still runs.
  let upstash: RunningUpstashServer | undefined;
  try {
    upstash = await startUpstashServer({
      redisUrl: process.env.REDIS_URL,
      token: process.env.TALLY_TEST_UPSTASH_TOKEN,
      port: Number(process.env.TALLY_TEST_UPSTASH_PORT ?? 0),
    });
  } catch (error) {
    console.warn(`No Redis for the Upstash adapter (${String(error)}); .ci/run starts one.`);
  }
  return async () => {
    await upstash?.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
