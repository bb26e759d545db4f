/**
 * One embedded ClickHouse engine for the whole test run (chDB binds one data directory per process,
 * and this is the one process that outlives every test file). Each test file makes its own database.
 * Likewise one embedded PostgreSQL as the warehouse (test/support/warehouse.ts makes a database per file).
 * Also the Upstash REST adapter over the local Redis, for the query cache's tests, and a local
 * S3-compatible server (s3rver) for the archive's S3 path, and (for `workers`) a mail receiver for the
 * digests. Only the `integration` and `workers` projects use them; the e2e tests start their own dev stacks.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createClient } from "@clickhouse/client-web";
import type { TestProject } from "vitest/node";
import { freePort } from "../../dev/free-port.ts";
import { type RunningClickHouse, startClickHouseServer } from "../../dev/servers/clickhouse-server.ts";
import { type RunningSmtpReceiver, startSmtpReceiver } from "../../dev/servers/smtp-receiver.ts";
import { type RunningUpstashServer, startUpstashServer } from "../../dev/servers/upstash-server.ts";
import { ensureDatabase, type RunningWarehouse, startWarehouseServer } from "../../dev/servers/warehouse-server.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../../migrations/files.ts";
import { migrate } from "../../migrations/migrator.ts";
import { migrateWarehouse } from "../../migrations/postgres-target.ts";

declare module "vitest" {
  export interface ProvidedContext {
    clickhouseUrl: string;
    archiveS3Endpoint: string;
    /** The test warehouse server's own database; tests make theirs with freshWarehouse (test/support/warehouse.ts). */
    warehouseUrl: string;
  }
}

/** The workers project's database, on the ClickHouse engine and on the warehouse alike. */
export const WORKERS_TEST_DATABASE = "tally_workers_test";
/** The bucket the local S3 server holds; s3rver accepts any credentials for it. */
export const TEST_ARCHIVE_S3 = { bucket: "tally-archive-test", accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/**
 * s3rver in a child process: its ListObjectsV2 continuation tokens use DES, which Node 22's OpenSSL 3
 * only offers with --openssl-legacy-provider (a flag this process cannot take on after start).
 */
async function startS3Server(port: number, directory: string): Promise<ChildProcess> {
  const script = `
    const { default: S3rver } = await import(${JSON.stringify(pathToFileURL(createRequire(import.meta.url).resolve("s3rver")).href)});
    const server = new S3rver({ address: "127.0.0.1", port: ${port}, silent: true, directory: ${JSON.stringify(directory)},
      configureBuckets: [{ name: ${JSON.stringify(TEST_ARCHIVE_S3.bucket)}, configs: [] }] });
    await server.run();
    process.stdout.write("ready\\n");`;
  const child = spawn(process.execPath, ["--openssl-legacy-provider", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}`)));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
  });
  return child;
}

/** The projects whose tests reach these services; a run of only the others (unit, build, e2e) starts none. */
const SERVICE_PROJECTS = new Set(["integration", "workers"]);

export default async function setup(project: TestProject) {
  // `--project` narrows vitest.projects, so `vitest run --project unit` skips the engine's start-up.
  if (!project.vitest.projects.some((p) => SERVICE_PROJECTS.has(p.name))) return;
  // Starts while ClickHouse does (each takes a second or two); awaited below, and stopped even if ClickHouse fails.
  const warehouseDir = mkdtempSync(join(tmpdir(), "tally-test-warehouse-"));
  const warehouseStart = startTestWarehouse(warehouseDir);
  warehouseStart.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
  const dataDir = mkdtempSync(join(tmpdir(), "tally-test-clickhouse-"));
  let server: RunningClickHouse;
  let warehouse: RunningWarehouse;
  try {
    server = await startClickHouseServer({ dataDir, port: Number(process.env.TALLY_TEST_CLICKHOUSE_PORT ?? 0) });
    warehouse = await warehouseStart;
  } catch (error) {
    await warehouseStart.then(
      (w) => w.close(),
      () => undefined,
    );
    rmSync(warehouseDir, { recursive: true, force: true });
    throw error;
  }
  project.provide("warehouseUrl", warehouse.url);
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
  const s3Dir = mkdtempSync(join(tmpdir(), "tally-test-s3-"));
  const s3Port = Number(process.env.TALLY_TEST_S3_PORT ?? 0) || (await freePort());
  const s3 = await startS3Server(s3Port, s3Dir);
  project.provide("archiveS3Endpoint", `http://127.0.0.1:${s3Port}`);
  // The digests' mail and webhooks (TEST_SMTP_URL, TEST_SMTP_INBOX): only the workers project sends any.
  let mail: RunningSmtpReceiver | undefined;
  if (project.vitest.projects.some((p) => p.name === "workers"))
    mail = await startSmtpReceiver({
      smtpPort: Number(process.env.TALLY_TEST_SMTP_PORT ?? 0),
      httpPort: Number(process.env.TALLY_TEST_SMTP_INBOX_PORT ?? 0),
    });
  return async () => {
    await mail?.close();
    s3.kill();
    rmSync(s3Dir, { recursive: true, force: true });
    await upstash?.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
    await warehouse.close();
    rmSync(warehouseDir, { recursive: true, force: true });
  };
}

/**
 * The warehouse on TALLY_TEST_WAREHOUSE_PORT (vitest.config.ts), with the workers project's database
 * migrated. Under root PostgreSQL runs as the postgres user, which must traverse the temporary
 * folder (mkdtemp makes it 0700); the data folder inside is its own.
 */
async function startTestWarehouse(dir: string): Promise<RunningWarehouse> {
  chmodSync(dir, 0o755);
  const warehouse = await startWarehouseServer({
    dataDir: join(dir, "data"),
    port: Number(process.env.TALLY_TEST_WAREHOUSE_PORT ?? 0),
    ephemeral: true,
  });
  try {
    await migrateWarehouse(await ensureDatabase(warehouse.url, WORKERS_TEST_DATABASE), readWarehouseMigrations());
  } catch (error) {
    await warehouse.close();
    throw error;
  }
  return warehouse;
}
