/**
 * `npm run bench:consumer` (issue #14): the consumer path's throughput — queue message → archive
 * (Parquet in R2, core/archive/delivery.ts) → SessionDO and PropertyDO → ClickHouse `events` and
 * `session_log` rows — on real parts, in events per CPU-second ("per core").
 *
 * The Worker (workers/main.ts, wrangler's own bundle, bindings and vars from wrangler.toml) runs in
 * one workerd process through Miniflare's API, as `npm run bench` runs it; its `queue` handler is
 * the real consumer (consumers/events-consumer.ts) and its actors the real ones. Batches are handed
 * to that handler directly (Miniflare's `getWorker().queue()`, the call Miniflare's queue broker
 * makes), so the broker's own work stays out of the figures. ClickHouse is the embedded chDB behind
 * our ClickHouse-HTTP endpoint, in this Node process, migrated as `npm run dev` migrates it.
 *
 * Traffic: BENCH_CONSUMER_PROPERTIES (default 100) properties, created through the admin API, with
 * Zipf volume; visitors in 30-minute sessions, ~8 requests each, requests of 1, 2–5 or 6–20 events
 * (60/30/10%), enriched events (dev/fixtures/events.ts). Messages are packed as the ingest stage
 * packs them: up to MAX_PACKED_BYTES of JSON (`EventsMessage` v1), ZSTD-compressed bytes
 * (BENCH_CONSUMER_BODY=text: the edge packer's ≤ 64 KB text instead); 100 messages per batch.
 *
 * Measured around the delivery only (data generated before, rows counted after): wall time, CPU
 * of workerd (/proc of the workerd processes under this one) and of this process (chDB, the HTTP
 * endpoint, Miniflare's client). "per core" is events / CPU seconds. The same batches are also
 * handed to a consumer that only reads and acks them, which prices the delivery itself (Miniflare's
 * proxy: serialisation in both processes) — not a production cost, printed so it can be taken off.
 * Then one more run of the largest size under V8's profiler (bench/cpu-profile.ts) says where
 * workerd's time goes, by stage, and the largest isolate heap seen.
 *
 * Environment: BENCH_CONSUMER_EVENTS (default 20000,100000), BENCH_CONSUMER_COMMIT_MS (default
 * 250,0: wrangler.toml's ACTOR_COMMIT_MS, and none), BENCH_CONSUMER_CONCURRENCY (batches in flight,
 * default 1, as Miniflare's broker delivers). Figures are from one run; nothing here asserts.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { freePort } from "../dev/free-port.ts";
import { startClickHouseServer } from "../dev/servers/clickhouse-server.ts";
import { readClickHouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { bundleWorker } from "./bundle.ts";
import { type Delivery, type Profiled, printReport, type Run } from "./consumer-print.ts";
import { batchesOf, type DeliveredMessage, propertyId, type QueueTarget, traffic } from "./consumer-traffic.ts";
import { startProfile } from "./cpu-profile.ts";
import { cpuSeconds, nodeCpuSeconds, ourWorkerd, peakMb, resetPeak } from "./workerd.ts";

const list = (v: string | undefined, fallback: number[]) => (v ? v.split(",").map(Number) : fallback);
const SIZES = list(process.env.BENCH_CONSUMER_EVENTS, [20_000, 100_000]);
const COMMITS = list(process.env.BENCH_CONSUMER_COMMIT_MS, [250, 0]);
const PROPERTIES = Number(process.env.BENCH_CONSUMER_PROPERTIES ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONSUMER_CONCURRENCY ?? 1);
const TEXT = process.env.BENCH_CONSUMER_BODY === "text";
/** One more run of the largest size under the V8 profiler, summarised by stage (BENCH_CONSUMER_PROFILE=0: none). */
const PROFILE = process.env.BENCH_CONSUMER_PROFILE !== "0";
const WARM_UP_EVENTS = 5_000;
const ADMIN_TOKEN = "bench-consumer-admin-token-0123456789";

// ---------------------------------------------------------------------------------------------
// The parts

const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-consumer-"));
const clickhouse = await startClickHouseServer({ dataDir, port: 0 });
await migrate(createClient({ url: clickhouse.url }), readClickHouseMigrations());

async function chCount(sql: string, prefix = ""): Promise<number> {
  const url = `${clickhouse.url}/?query=${encodeURIComponent(sql)}&param_prefix=${encodeURIComponent(prefix)}`;
  return Number((await (await fetch(url)).text()).trim());
}

/** Rows ClickHouse has written so far, tables and materialized views' targets. */
const insertedRows = () => chCount("SELECT value FROM system.events WHERE event = 'InsertedRows'");

const OUT_DIR = join(".data", "bench-consumer");
const PROFILE_PATH = join(OUT_DIR, "consumer.cpuprofile");
const scriptPath = bundleWorker("workers/main.ts", OUT_DIR);
// wrangler.toml as Miniflare options. wrangler types them as an Omit<> of miniflare's shape, whose
// index signature turns every known key to `unknown`: the shape itself is what it returns.
const toml = unstable_getMiniflareWorkerOptions("wrangler.toml").workerOptions as V4WorkerOptionsShape;
/** Reads and acks every message: what delivering a batch costs without our consumer. */
const NOOP_CONSUMER = `export default {
  async queue(batch) {
    let bytes = 0;
    for (const m of batch.messages) bytes += typeof m.body === "string" ? m.body.length : m.body.byteLength;
    if (bytes < 0) throw new Error("unreachable");
    batch.ackAll();
  },
};`;

function startWorker(commitMs: number, logs: string[], inspectorPort?: number): Miniflare {
  return new Miniflare(
    convertV4MiniflareOptions({
      ...(inspectorPort === undefined ? {} : { inspectorPort }),
      handleStructuredLogs: ({ level, message }) => {
        if (message.includes('"tally_metric"')) logs.push(message);
        else if (level === "error" || level === "warn") process.stderr.write(`workerd ${level}: ${message}\n`);
      },
      workers: [
        {
          name: "tally",
          modules: true,
          scriptPath,
          compatibilityDate: toml.compatibilityDate,
          compatibilityFlags: toml.compatibilityFlags,
          durableObjects: toml.durableObjects,
          r2Buckets: toml.r2Buckets,
          queueProducers: toml.queueProducers,
          ratelimits: toml.ratelimits,
          bindings: {
            ...toml.bindings,
            CLICKHOUSE_URL: clickhouse.url,
            CLICKHOUSE_PASSWORD: "",
            ADMIN_TOKEN,
            ACTOR_COMMIT_MS: String(commitMs),
          },
        },
        { name: "noop", modules: true, compatibilityDate: toml.compatibilityDate, script: NOOP_CONSUMER },
      ],
    }),
  );
}

async function createProperties(mf: Miniflare): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < PROPERTIES) {
        const i = next++;
        const res = await mf.dispatchFetch("http://localhost/api/v1/properties", {
          method: "POST",
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
          body: JSON.stringify({
            property_id: propertyId(i),
            name: `Consumer ${i + 1}`,
            domains: [`site${i}.example`],
          }),
        });
        if (res.status !== 201) throw new Error(`creating ${propertyId(i)} failed: ${res.status} ${await res.text()}`);
      }
    }),
  );
}

/** Hands every batch to `target`'s queue handler, CONCURRENCY at a time; wall, CPU and peak memory around it. */
async function deliver(target: QueueTarget, batches: readonly DeliveredMessage[][]): Promise<Delivery> {
  const pids = ourWorkerd();
  let next = 0;
  let acked = 0;
  let retried = 0;
  resetPeak(pids);
  const cpu0 = cpuSeconds(pids);
  const node0 = nodeCpuSeconds();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < batches.length) {
        const batch = batches[next++] ?? [];
        const r = await target.queue("events", batch);
        const retries = r.retryBatch.retry || r.outcome !== "ok" ? batch.length : r.retryMessages.length;
        retried += retries;
        acked += r.ackAll ? batch.length - retries : r.explicitAcks.length;
      }
    }),
  );
  return {
    wall: (performance.now() - t0) / 1000,
    workerdCpu: cpuSeconds(pids) - cpu0,
    nodeCpu: nodeCpuSeconds() - node0,
    workerdPeakMb: peakMb(pids),
    acked,
    retried,
  };
}

const sum = (lines: readonly string[], key: string) =>
  lines.reduce((n, l) => n + Number((JSON.parse(l) as Record<string, unknown>)[key] ?? 0), 0);

async function archiveObjects(mf: Miniflare): Promise<number> {
  const bucket = await mf.getR2Bucket("ARCHIVE_BUCKET");
  let count = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ cursor, limit: 1000 });
    count += page.objects.length;
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return count;
}

/** One measured run: `size` fresh events through the consumer, then what landed where. */
async function run(mf: Miniflare, logs: string[], commitMs: number, size: number, tag: string): Promise<Run> {
  const now = Date.now();
  const packed = batchesOf(traffic(PROPERTIES, size, tag, now, size + commitMs), tag, now, TEXT);
  const tally = (await mf.getWorker("tally")) as unknown as QueueTarget;
  const filesBefore = await archiveObjects(mf);
  const logsBefore = logs.length;
  const written = await insertedRows();
  const delivery = await deliver(tally, packed.batches);
  const lines = logs.slice(logsBefore);
  const prefix = `${tag}-`;
  const count = (sql: string) => chCount(sql, prefix);
  return {
    ...delivery,
    commitMs,
    events: size,
    messages: packed.messages,
    batches: packed.batches.length,
    jsonBytes: packed.jsonBytes,
    bodyBytes: packed.bodyBytes,
    rows: await count("SELECT count() FROM events WHERE startsWith(event_id, {prefix:String})"),
    distinctRows: await count("SELECT uniqExact(event_id) FROM events WHERE startsWith(event_id, {prefix:String})"),
    logRows: await count("SELECT count() FROM session_log WHERE startsWith(client_id, {prefix:String})"),
    chRowsWritten: (await insertedRows()) - written,
    archiveFiles: (await archiveObjects(mf)) - filesBefore,
    actorRpcs: sum(lines, "session_rpcs") + sum(lines, "property_rpcs"),
    doRows: sum(lines, "do_rows_written"),
  };
}

// ---------------------------------------------------------------------------------------------
// The runs

const runs: Run[] = [];
let profiled: Profiled | undefined;
try {
  for (const [c, commitMs] of COMMITS.entries()) {
    const logs: string[] = [];
    // The first setting's workerd has an inspector, for one profiled run after the measured ones.
    const inspectorPort = PROFILE && c === 0 ? await freePort() : undefined;
    const mf = startWorker(commitMs, logs, inspectorPort);
    try {
      await mf.ready;
      await createProperties(mf);
      // JIT, configuration caches, ClickHouse parts: not reported.
      await run(mf, logs, commitMs, WARM_UP_EVENTS, `warm${commitMs}`);
      for (const size of SIZES) {
        const r = await run(mf, logs, commitMs, size, `c${commitMs}n${size}`);
        // The delivery alone: the same volume to a consumer that reads and acks it.
        const noop = (await mf.getWorker("noop")) as unknown as QueueTarget;
        const tag = `noop${commitMs}n${size}`;
        r.noop = await deliver(
          noop,
          batchesOf(traffic(PROPERTIES, size, tag, Date.now(), size), tag, Date.now(), TEXT).batches,
        );
        runs.push(r);
        process.stderr.write(`ACTOR_COMMIT_MS=${commitMs}, ${size} events: ${r.wall.toFixed(1)} s\n`);
      }
      if (inspectorPort !== undefined) {
        const size = Math.max(...SIZES);
        const profile = await startProfile(inspectorPort, "tally");
        const r = await run(mf, logs, commitMs, size, `prof${commitMs}n${size}`);
        profiled = { run: r, ...(await profile.stop()) };
        writeFileSync(PROFILE_PATH, JSON.stringify(profiled.profile));
      }
    } finally {
      await mf.dispose();
    }
  }
} finally {
  await clickhouse.close();
  rmSync(dataDir, { recursive: true, force: true });
}

printReport({
  runs,
  profiled,
  properties: PROPERTIES,
  concurrency: CONCURRENCY,
  text: TEXT,
  profilePath: PROFILE_PATH,
});
