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
import type { Event } from "../core/event.ts";
import { HOUR_MS } from "../core/time.ts";
import { prng } from "../dev/fixtures/dataset.ts";
import { makeEvent } from "../dev/fixtures/events.ts";
import { startWarehouseServer } from "../dev/servers/warehouse-server.ts";
import { readWarehouseMigrations } from "../migrations/files.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { withWarehouse } from "../platform/warehouse.ts";

const EVENTS = Number(process.env.BENCH_WAREHOUSE_LOAD_EVENTS ?? 100_000);
const PROPERTY = "UA-BENCH-1";
const START = Date.UTC(2026, 10, 25);
const rnd = prng(12);
const PAGES = Array.from({ length: 200 }, (_, i) => `/page/${i}`);

/** A day of one property's traffic (as bench/replay.ts): visits of a few events, some crossing hours. */
function traffic(): Event[][] {
  const hours: Event[][] = Array.from({ length: 24 }, () => []);
  let n = 0;
  for (let v = 0; n < EVENTS; v++) {
    let t = START + Math.floor(rnd() * 23.5 * HOUR_MS);
    for (let e = 0; e < 1 + Math.floor(rnd() * 5) && n < EVENTS; e++, n++) {
      const page = PAGES[Math.floor(PAGES.length * rnd() ** 2)] ?? "/";
      hours[Math.floor((t - START) / HOUR_MS)]?.push(
        makeEvent({
          property_id: PROPERTY,
          client_id: `v${v}`,
          event_id: `e${n}`,
          event_timestamp: t,
          page_url: `https://example.com${page}`,
          page_path: page,
        }),
      );
      t += Math.floor(rnd() * 5 * 60_000);
    }
  }
  return hours;
}

const store = new MemoryArchiveStore();
for (const [h, events] of traffic().entries()) {
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
