/**
 * `npm run bench` (replay): how fast the event log rebuilds the projections, in one Node process
 * (the same code ReplayDO runs per hour: decode the hour's Parquet, drop repeats, run the session
 * reducer, insert `events` and `session_log` — whose views fill `sessions` and the rollups — into
 * the embedded ClickHouse). Prints events/s per stage and end to end.
 * BENCH_REPLAY_EVENTS (default 200,000) sets the volume: one property, 24 hours.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { fromArchiveRecord, toArchiveRecord } from "../core/archive/layout.ts";
import { decodeArchiveFile, encodeArchiveFile } from "../core/archive/parquet.ts";
import { dedupeRecords } from "../core/archive/plan.ts";
import { ConfigSchema } from "../core/config.ts";
import { replayChunk, type VisitorStates } from "../core/replay/replay.ts";
import { dayOfTraffic } from "../dev/fixtures/day-traffic.ts";
import { startClickHouseServer } from "../dev/servers/clickhouse-server.ts";
import { readClickHouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { createClickHouseSink } from "../platform/clickhouse-sink.ts";

const EVENTS = Number(process.env.BENCH_REPLAY_EVENTS ?? 200_000);
const START = Date.UTC(2026, 10, 25);

const seconds = (from: number) => (performance.now() - from) / 1000;
const rate = (events: number, s: number) => `${Math.round(events / s).toLocaleString("en-US")} events/s`;

const hours = dayOfTraffic({ property: "UA-BENCH-1", events: EVENTS, start: START, seed: 11 });
const files = hours.map((events) =>
  encodeArchiveFile(
    events.map((e) => toArchiveRecord(e, e.event_timestamp)),
    zstdCodec,
  ),
);
const bytes = files.reduce((sum, f) => sum + f.byteLength, 0);

const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-replay-"));
const server = await startClickHouseServer({ dataDir, port: 0 });
try {
  await migrate(createClient({ url: server.url }), readClickHouseMigrations());
  const sink = createClickHouseSink(ConfigSchema.parse({ CLICKHOUSE_URL: server.url }));
  const states: VisitorStates = new Map();
  const time = { decode: 0, reduce: 0, insert: 0 };
  let written = 0;
  const started = performance.now();
  for (const [h, file] of files.entries()) {
    let t = performance.now();
    const records = dedupeRecords(await decodeArchiveFile(file, zstdCodec)).kept;
    time.decode += seconds(t);
    t = performance.now();
    const rows = replayChunk(
      records.map((r) => fromArchiveRecord(r).event),
      states,
      (e) => e.event_timestamp,
    );
    time.reduce += seconds(t);
    t = performance.now();
    await sink.insert(rows.events, `bench-replay-${h}`);
    await sink.insertSessionLog(rows.sessionLog, `bench-replay-${h}-sessions`);
    time.insert += seconds(t);
    written += rows.events.length;
  }
  const total = seconds(started);
  console.log(
    `\nReplay bench: ${EVENTS.toLocaleString("en-US")} events, one property, 24 hourly Parquet files (${Math.round(bytes / EVENTS)} bytes/event)`,
  );
  console.log(`  decode Parquet (ZSTD)        ${rate(EVENTS, time.decode)}`);
  console.log(`  dedupe + session reducer     ${rate(EVENTS, time.reduce)}`);
  console.log(
    `  insert events + session_log  ${rate(EVENTS, time.insert)}  (ClickHouse fills sessions and the rollups through views)`,
  );
  console.log(`  end to end                   ${rate(written, total)}  (${total.toFixed(1)} s)`);
} finally {
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
