/**
 * `npm run bench` (warehouse load): how fast the hourly load job fills the warehouse, in one Node
 * process running the job's own code (consumers/warehouse-load.ts `loadHour`): read the hour's
 * Parquet from the archive, drop repeats, read the sessions around the hour from the warehouse,
 * run the session reducer, and replace the hour's events and sessions in one transaction — into the
 * embedded PostgreSQL 18. The archive is core/archive's in-memory store (R2's latency is not
 * measured here; bench/archive.ts measures reading). Prints rows/s per hour and end to end.
 * BENCH_WAREHOUSE_LOAD_EVENTS (default 100,000) sets the volume: one property, 24 hours.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHour } from "../consumers/warehouse-load.ts";
import { batchFileKey, deterministicId, partitionOf, toArchiveRecord } from "../core/archive/layout.ts";
import { encodeArchiveFile } from "../core/archive/parquet.ts";
import { MemoryArchiveStore } from "../core/archive/store.ts";
import { HOUR_MS } from "../core/time.ts";
import { dayOfTraffic } from "../dev/fixtures/day-traffic.ts";
import { startWarehouseServer } from "../dev/servers/warehouse-server.ts";
import { readWarehouseMigrations } from "../migrations/files.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { withWarehouse } from "../platform/warehouse.ts";

const EVENTS = Number(process.env.BENCH_WAREHOUSE_LOAD_EVENTS ?? 100_000);
const PROPERTY = "UA-BENCH-1";
const START = Date.UTC(2026, 10, 25);

const store = new MemoryArchiveStore();
for (const [h, events] of dayOfTraffic({ property: PROPERTY, events: EVENTS, start: START, seed: 12 }).entries()) {
  if (events.length === 0) continue;
  const bytes = encodeArchiveFile(
    events.map((e) => toArchiveRecord(e, e.event_timestamp)),
    zstdCodec,
  );
  await store.put(
    batchFileKey(partitionOf(PROPERTY, START + h * HOUR_MS), await deterministicId([`bench-${h}`])),
    bytes,
  );
}

const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-warehouse-"));
const server = await startWarehouseServer({ dataDir, port: 0, ephemeral: true });
try {
  await migrateWarehouse(server.url, readWarehouseMigrations());
  const perHour: number[] = [];
  let events = 0;
  let sessions = 0;
  const started = performance.now();
  await withWarehouse(server.url, async (db) => {
    for (let h = 0; h < 24; h++) {
      const t = performance.now();
      const r = await loadHour(db, store, START + h * HOUR_MS, { properties: [PROPERTY], exact: true });
      perHour.push(performance.now() - t);
      events += r.events;
      sessions += r.sessions;
    }
  });
  const total = (performance.now() - started) / 1000;
  const sorted = [...perHour].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
  const perSecond = (n: number) => Math.round(n / total).toLocaleString("en-US");
  console.log(
    `\nWarehouse load bench: ${EVENTS.toLocaleString("en-US")} events, one property, 24 hourly Parquet files → embedded PostgreSQL 18`,
  );
  console.log(
    `  event rows written     ${events.toLocaleString("en-US")}  (${perSecond(events)} rows/s; a visit crossing an hour is rewritten whole)`,
  );
  console.log(
    `  session rows written   ${sessions.toLocaleString("en-US")}  (a visit crossing an hour is written by each hour it touches)`,
  );
  console.log(`  rows/s end to end      ${perSecond(events + sessions)}  (events + sessions, ${total.toFixed(1)} s)`);
  console.log(`  one hour's load        p50 ${Math.round(at(0.5))} ms, max ${Math.round(at(1))} ms`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
