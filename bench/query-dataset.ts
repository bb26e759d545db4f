/**
 * The query bench's dataset (bench/query.ts): events made by bench/generate-events.ts in the
 * embedded ClickHouse (scripts/clickhouse-server.ts, chDB, in its own process), kept under
 * `.bench-data/` and keyed by the generator's parameters, its source (generate-events.ts,
 * generate-model.ts, generate-sql.ts) and the migrations, so later runs skip generation.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client-web";
import { DAY_MS } from "../core/time.ts";
import { freePort } from "../dev/free-port.ts";
import { type DevCredentials, dataDirCredentials } from "../dev/servers/clickhouse-users.ts";
import { CLICKHOUSE_MIGRATIONS_DIR, readClickHouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { type GenerateReport, generateEvents } from "./generate-events.ts";
import { HOT_RETENTION_DAYS, PROPERTY } from "./query-targets.ts";

/** Events generated (BENCH_QUERY_EVENTS, 10M) over DAYS days ending today. */
export const EVENTS = Number(process.env.BENCH_QUERY_EVENTS ?? 10_000_000);
export const DAYS = 30;
const SEED = 1;

/** What dataset.json records: the day the data ends, and how its generation went. */
export interface Dataset {
  end: number;
  generated: GenerateReport;
}

/** Keyed by the parameters and by every generator source file and migration: add a new generator file here. */
function datasetDir(): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ EVENTS, DAYS, SEED, PROPERTY }));
  for (const file of ["./generate-events.ts", "./generate-model.ts", "./generate-sql.ts"])
    hash.update(readFileSync(new URL(file, import.meta.url)));
  for (const file of readdirSync(CLICKHOUSE_MIGRATIONS_DIR).sort())
    hash.update(readFileSync(join(CLICKHOUSE_MIGRATIONS_DIR, file)));
  return join(".bench-data", `query-${EVENTS}-${hash.digest("hex").slice(0, 12)}`);
}

/** A cached dataset is usable while its 30 days stay inside the hot retention (the API's ClickHouse range). */
function cachedDataset(dir: string): Dataset | undefined {
  const file = join(dir, "dataset.json");
  if (process.env.BENCH_QUERY_FRESH === "1" || !existsSync(file)) return undefined;
  const dataset = JSON.parse(readFileSync(file, "utf8")) as Dataset;
  return dataset.end - DAYS * DAY_MS > Date.now() - (HOT_RETENTION_DAYS - 5) * DAY_MS ? dataset : undefined;
}

/** The embedded ClickHouse in its own process, as `npm run clickhouse` runs it. */
export interface BenchClickHouse {
  url: string;
  child: ChildProcess;
  /** The data folder's generated users: the writer for the bench's client, both for the Worker. */
  credentials: DevCredentials;
  /** The writer's login, as @clickhouse/client-web takes it. */
  auth: { username: string; password: string };
}

/** The embedded ClickHouse over `dataDir`, once it says it is listening. */
export async function startClickHouse(dataDir: string): Promise<BenchClickHouse> {
  const port = await freePort();
  const child = spawn(process.execPath, ["scripts/clickhouse-server.ts"], {
    env: { ...process.env, CLICKHOUSE_PORT: String(port), CLICKHOUSE_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`ClickHouse exited (${code})`)));
  });
  const credentials = dataDirCredentials(dataDir);
  const auth = { username: credentials.user, password: credentials.password };
  return { url: `http://127.0.0.1:${port}`, child, credentials, auth };
}

/** The dataset's directory, made, with its record while still usable; stale copies of this size go. */
export function openDataset(): { dir: string; cached: Dataset | undefined } {
  mkdirSync(".bench-data", { recursive: true });
  const dir = datasetDir();
  const cached = cachedDataset(dir);
  if (!cached) {
    // A stale copy (older generator, migrations or end date) of this size goes: each is gigabytes.
    for (const stale of readdirSync(".bench-data", { withFileTypes: true }))
      if (stale.isDirectory() && stale.name.startsWith(`query-${EVENTS}-`))
        rmSync(join(".bench-data", stale.name), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  return { dir, cached };
}

/** Migrates ClickHouse, then reuses the cached dataset or generates one and records it. */
export async function loadDataset(
  client: ClickHouseClient,
  dir: string,
  cached: Dataset | undefined,
): Promise<Dataset> {
  await migrate(client, readClickHouseMigrations());
  if (cached) {
    console.error(`Reusing the dataset in ${dir} (delete it or set BENCH_QUERY_FRESH=1 to regenerate)`);
    return cached;
  }
  console.error(`Generating ${EVENTS.toLocaleString()} events over ${DAYS} days into ${dir} …`);
  const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const generated = await generateEvents(client, {
    property_id: PROPERTY,
    events: EVENTS,
    days: DAYS,
    end: today,
    seed: SEED,
  });
  const dataset = { end: today, generated };
  writeFileSync(join(dir, "dataset.json"), JSON.stringify(dataset, null, 2));
  return dataset;
}
