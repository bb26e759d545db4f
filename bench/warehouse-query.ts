/**
 * `npm run bench` (warehouse query): the dashboard's overview over the last 12 months — beyond
 * ClickHouse's hot retention, so answered by the warehouse — on a year of generated events.
 *
 * The year is made by bench/generate-events.ts in the embedded ClickHouse (as the query bench's
 * month is), then copied into the embedded PostgreSQL 18 with the load job's own insert
 * (consumers/warehouse-load.ts `insertRows`), its sessions as ClickHouse computed them, and every
 * day, ISO week and month aggregated once (core/warehouse/aggregates.ts, as the daily job does);
 * the schedule's ledger row says the warehouse is loaded up to the dataset's end. Both data folders
 * are kept under `.bench-data/` keyed by the generator, the migrations and the warehouse code, so
 * later runs skip the fill. The Worker runs in one workerd (Miniflare, query cache off) pointed at
 * both stores; the overview report is asked WARMUP + ITERATIONS times, and its p50/p95 printed
 * (target ≤ 500 ms), with the plan and source the API reported. Figures are printed, never asserted.
 *
 * BENCH_WAREHOUSE_EVENTS (3M), BENCH_QUERY_ITERATIONS (20), BENCH_WAREHOUSE_FRESH=1 tune it.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import type { Miniflare } from "miniflare";
import { insertRows } from "../consumers/warehouse-load.ts";
import type { EventRow, SessionRow } from "../core/clickhouse-row.ts";
import { DAY_MS } from "../core/time.ts";
import { isoDay, type Period, periodsOf, rebuildPeriod } from "../core/warehouse/aggregates.ts";
import { finishedRow, runningRow, SCHEDULE_JOB } from "../core/warehouse/jobs.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "../core/warehouse/rows.ts";
import { freePort } from "../dev/free-port.ts";
import { startWarehouseServer } from "../dev/servers/warehouse-server.ts";
import { CLICKHOUSE_MIGRATIONS_DIR, readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";
import { openWarehouse, type Warehouse } from "../platform/warehouse.ts";
import { generateEvents } from "./generate-events.ts";
import { startClickHouse } from "./query-dataset.ts";
import { createProperty, startWorker } from "./query-measure.ts";
import { dateOf, PROPERTY } from "./query-targets.ts";

const EVENTS = Number(process.env.BENCH_WAREHOUSE_EVENTS ?? 3_000_000);
const ITERATIONS = Number(process.env.BENCH_QUERY_ITERATIONS ?? 20);
const WARMUP = 3;
const DAYS = 365;

interface Dataset {
  end: number;
  fill: { events: number; sessions: number; copy_seconds: number; aggregate_seconds: number; periods: number };
}

/** Keyed by the generator, both migration folders and the warehouse code that fills and reads it. */
function datasetDir(): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ EVENTS, DAYS, PROPERTY }));
  const files = [
    "bench/generate-events.ts",
    "bench/generate-model.ts",
    "bench/generate-sql.ts",
    "core/warehouse/aggregates.ts",
    "core/warehouse/rows.ts",
    ...readdirSync(CLICKHOUSE_MIGRATIONS_DIR).map((f) => join("migrations/clickhouse", f)),
    ...readdirSync("migrations/warehouse").map((f) => join("migrations/warehouse", f)),
  ];
  for (const file of files.sort()) hash.update(readFileSync(file));
  return join(".bench-data", `warehouse-${EVENTS}-${hash.digest("hex").slice(0, 12)}`);
}

async function rows<T>(client: ClickHouseClient, query: string, params: Record<string, unknown>): Promise<T[]> {
  const result = await client.query({ query, query_params: params, format: "JSONEachRow" });
  return result.json<T>();
}

/** The year, a day at a time: events and (final) sessions from ClickHouse into the warehouse. */
async function copyYear(client: ClickHouseClient, db: Warehouse, from: number, end: number) {
  let events = 0;
  let sessions = 0;
  for (let day = from; day < end; day += DAY_MS) {
    const range = { p: PROPERTY, from: day, to: day + DAY_MS };
    const where = (column: string) =>
      `property_id = {p:String} AND ${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;
    const e = await rows<EventRow>(client, `SELECT * FROM events WHERE ${where("event_timestamp")}`, range);
    const s = await rows<SessionRow>(client, `SELECT * FROM sessions FINAL WHERE ${where("opened_at")}`, range);
    await db.transaction().execute(async (trx) => {
      await insertRows(trx, { table: "events", rows: e.map(toWarehouseEventRow) }, false);
      await insertRows(trx, { table: "sessions", rows: s.map(toWarehouseSessionRow) }, false);
    });
    events += e.length;
    sessions += s.length;
    if (new Date(day).getUTCDate() === 1)
      console.error(`  copied up to ${isoDay(day)}: ${events.toLocaleString()} events`);
  }
  return { events, sessions };
}

/** Every day, ISO week and month of the year aggregated once (the daily job rebuilds a day's three). */
async function aggregateYear(db: Warehouse, from: number, end: number): Promise<number> {
  const periods = new Map<string, Period>();
  for (let day = from; day < end; day += DAY_MS)
    for (const p of periodsOf(isoDay(day))) periods.set(`${p.kind}:${p.start}`, p);
  for (const period of periods.values())
    await db.transaction().execute(async (trx) => {
      const { clear, inserts } = rebuildPeriod(trx, period);
      await clear.execute();
      for (const insert of inserts) await insert.execute();
    });
  return periods.size;
}

async function fill(client: ClickHouseClient, db: Warehouse, dir: string): Promise<Dataset> {
  await migrate(client, readClickHouseMigrations());
  const end = Math.floor(Date.now() / DAY_MS) * DAY_MS;
  const from = end - DAYS * DAY_MS;
  console.error(`Generating ${EVENTS.toLocaleString()} events over ${DAYS} days into ${dir} …`);
  await generateEvents(client, { property_id: PROPERTY, events: EVENTS, days: DAYS, end, seed: 2 });
  let t = performance.now();
  const copied = await copyYear(client, db, from, end);
  const copySeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const periods = await aggregateYear(db, from, end);
  const aggregateSeconds = (performance.now() - t) / 1000;
  const row = runningRow(SCHEDULE_JOB, [from, end], Date.now(), "bench: every hour before period_end is loaded");
  await db
    .insertInto("job_runs")
    .values(finishedRow(row, "done", Date.now(), 0, row.detail))
    .execute();
  const dataset: Dataset = {
    end,
    fill: { ...copied, copy_seconds: copySeconds, aggregate_seconds: aggregateSeconds, periods },
  };
  writeFileSync(join(dir, "dataset.json"), JSON.stringify(dataset, null, 2));
  return dataset;
}

function openDataset(): { dir: string; cached: Dataset | undefined } {
  mkdirSync(".bench-data", { recursive: true });
  const dir = datasetDir();
  const file = join(dir, "dataset.json");
  let cached: Dataset | undefined;
  if (process.env.BENCH_WAREHOUSE_FRESH !== "1" && existsSync(file)) {
    const dataset = JSON.parse(readFileSync(file, "utf8")) as Dataset;
    // The 12 months end at the dataset's end: a week old is still a year beyond the hot retention.
    if (dataset.end > Date.now() - 7 * DAY_MS) cached = dataset;
  }
  if (!cached) {
    for (const stale of readdirSync(".bench-data", { withFileTypes: true }))
      if (stale.isDirectory() && stale.name.startsWith(`warehouse-${EVENTS}-`))
        rmSync(join(".bench-data", stale.name), { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  return { dir, cached };
}

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))] ?? 0;

const { dir, cached } = openDataset();
const clickhouse = await startClickHouse(join(dir, "clickhouse"));
const client = createClient({ url: clickhouse.url, ...clickhouse.auth, request_timeout: 1_800_000 });
const warehouse = await startWarehouseServer({ dataDir: join(dir, "warehouse"), port: await freePort() });
await migrateWarehouse(warehouse.url, readWarehouseMigrations());
const db = openWarehouse(warehouse.url, { max: 1 });
let mf: Miniflare | undefined;
try {
  const dataset = cached ?? (await fill(client, db, dir));
  const start = dateOf(dataset.end - DAYS * DAY_MS);
  const end = dateOf(dataset.end - DAY_MS);
  mf = startWorker(clickhouse, { WAREHOUSE_URL: warehouse.url });
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const apiKey = await createProperty(base);
  const url = `${base}/api/v1/reports?property=${PROPERTY}&start=${start}&end=${end}&report=overview`;
  const samples: number[] = [];
  let meta: unknown;
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const t = performance.now();
    const res = await fetch(url, { headers: { Authorization: `Bearer ${apiKey}` } });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`overview: ${res.status} ${text.slice(0, 500)}`);
    if (i >= WARMUP) samples.push(performance.now() - t);
    meta ??= (JSON.parse(text) as { meta?: unknown }).meta;
  }
  const f = dataset.fill;
  console.log(
    `\nWarehouse query bench: the overview of ${start} … ${end} (12 months, beyond the 90-day hot retention)`,
  );
  console.log(
    `  data         ${f.events.toLocaleString("en-US")} events, ${f.sessions.toLocaleString("en-US")} sessions in the embedded PostgreSQL 18; ${f.periods} day/week/month periods aggregated`,
  );
  console.log(
    `  fill         copy ${Math.round((f.events + f.sessions) / f.copy_seconds).toLocaleString("en-US")} rows/s (${f.copy_seconds.toFixed(0)} s); aggregates ${f.aggregate_seconds.toFixed(0)} s (${((f.aggregate_seconds / f.periods) * 1000).toFixed(0)} ms per period)${cached ? "  (cached dataset)" : ""}`,
  );
  console.log(
    `  overview     p50 ${percentile(samples, 0.5).toFixed(0)} ms, p95 ${percentile(samples, 0.95).toFixed(0)} ms over ${ITERATIONS} (target p95 ≤ 500 ms)`,
  );
  console.log(`  answered     ${JSON.stringify(meta)}`);
} finally {
  await mf?.dispose();
  await db.destroy();
  await client.close();
  await warehouse.close();
  const exited = new Promise((r) => clickhouse.child.once("exit", r));
  clickhouse.child.kill("SIGTERM");
  await exited;
}
