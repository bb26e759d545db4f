/**
 * `npm run bench` (archive): what writing the Parquet event log costs, in-process (Node 22: the same
 * V8 and the same native zstd that workerd's node:zlib wraps; storage is the in-memory store, so the
 * figures are the encoder's, not R2's latency):
 * - file size vs codec: ms and bytes per event for files of 1 to 500 rows, ZSTD and uncompressed
 *   (why files under COMPRESS_FROM_ROWS rows are written raw);
 * - the consumer's path: batches of 100 messages × 5 events, grouped into one file per property and
 *   hour, encoded and put — rows/s and bytes per event, for a batch spread over many properties and
 *   for one-property batches;
 * - compaction of one property's hour into ≤ 25,000-row files (read, dedupe, sort, encode, verify by
 *   reading back, manifest): rows/s, bytes per event, ms per step against the 20 s budget of a Cron
 *   run (consumers/scheduled.ts).
 * BENCH_ARCHIVE_EVENTS (default 100,000) sets the volume of the one-property runs.
 */

import { type ArchiveMessage, encodeGroup, groupMessages, PendingMarks, storeGroup } from "../core/archive/batch.ts";
import { COMPACTION_DEFAULTS, compactHour } from "../core/archive/compaction.ts";
import { partitionOf, toArchiveRecord } from "../core/archive/layout.ts";
import { COMPRESS_FROM_ROWS, encodeArchiveFile } from "../core/archive/parquet.ts";
import { type ArchiveStore, listAll, MemoryArchiveStore } from "../core/archive/store.ts";
import type { Event } from "../core/event.ts";
import { HOUR_MS } from "../core/time.ts";
import { uuidv7 } from "../core/uuid.ts";
import { makeEvent } from "../dev/fixtures/events.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { BROWSERS } from "./consumer-traffic.ts";

const EVENTS = Number(process.env.BENCH_ARCHIVE_EVENTS ?? 100_000);
const EVENTS_PER_MESSAGE = 5;
const MESSAGES_PER_BATCH = 100;
const HOUR = Date.UTC(2026, 10, 26, 9);

/** A small seeded PRNG (mulberry32), so every run measures the same data. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(7);
const pick = <T>(xs: readonly T[], skew = 1.6): T => xs[Math.floor(xs.length * random() ** skew)] as T;
const PAGES = Array.from({ length: 300 }, (_, i) => `/${["blog", "docs", "pricing", "product", "help"][i % 5]}/${i}`);
const SOURCES = [
  ["", "", "Direct"],
  ["https://www.google.com/", "Google", "Organic Search"],
  ["https://t.co/abc", "Twitter", "Organic Social"],
  ["https://news.ycombinator.com/", "Hacker News", "Referral"],
  ["https://chatgpt.com/", "ChatGPT", "AI"],
] as const;
const GEO = [
  ["US", "California", "San Francisco", "NA", "America/Los_Angeles", 13335],
  ["DE", "Berlin", "Berlin", "EU", "Europe/Berlin", 3320],
  ["GB", "England", "London", "EU", "Europe/London", 2856],
  ["IN", "Maharashtra", "Mumbai", "AS", "Asia/Kolkata", 55836],
  ["BR", "São Paulo", "São Paulo", "SA", "America/Sao_Paulo", 28573],
] as const;

function generate(n: number, properties: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const ts = HOUR + Math.floor((i / n) * HOUR_MS);
    const page = pick(PAGES);
    const [referrer, source, channel] = pick(SOURCES);
    const [country, region, city, continent, tz, asn] = pick(GEO);
    const [browser, bv, os, ov, device] = pick(BROWSERS);
    const custom = random() < 0.1;
    out.push(
      makeEvent({
        property_id: `UA-${1000 + Math.floor(properties * random() ** 2)}-1`,
        client_id: `${Math.floor(random() * 2 ** 40).toString(36)}.${Math.floor(ts / 1000)}`,
        event_id: uuidv7(ts),
        event_type: custom ? pick(["signup", "download", "purchase"]) : "pageview",
        event_timestamp: ts,
        page_url: `https://shop.example.com${page}`,
        page_title: `Page ${page}`,
        page_host: "shop.example.com",
        page_path: page,
        ...(referrer ? { referrer, referrer_host: new URL(referrer).host, source } : {}),
        channel,
        country,
        region,
        city,
        continent,
        geo_timezone: tz,
        asn,
        browser,
        browser_version: bv,
        os,
        os_version: ov,
        device_type: device,
        screen_resolution: device === "desktop" ? "1920x1080" : "390x844",
        language: pick(["en-US", "de-DE", "en-GB", "pt-BR"]),
        ip_prefix: `203.0.${Math.floor(random() * 255)}.0`,
        ...(custom ? { custom_dimensions: { plan: pick(["free", "pro"]) }, custom_metrics: { value: i % 97 } } : {}),
      }),
    );
  }
  return out;
}

function batchesOf(events: Event[]): ArchiveMessage[][] {
  const batches: ArchiveMessage[][] = [];
  const perBatch = EVENTS_PER_MESSAGE * MESSAGES_PER_BATCH;
  for (let b = 0; b * perBatch < events.length; b++) {
    const slice = events.slice(b * perBatch, (b + 1) * perBatch);
    const batch: ArchiveMessage[] = [];
    for (let m = 0; m * EVENTS_PER_MESSAGE < slice.length; m++)
      batch.push({
        id: `b${b}-m${m}`,
        body: {
          v: 1,
          received_at: HOUR + b,
          events: slice.slice(m * EVENTS_PER_MESSAGE, (m + 1) * EVENTS_PER_MESSAGE),
        },
      });
    batches.push(batch);
  }
  return batches;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Counts writes (R2 Class A operations) on the way through. */
function counting(inner: ArchiveStore): ArchiveStore & { puts: number } {
  const store = {
    puts: 0,
    put: (key: string, body: Uint8Array, onlyIf?: Parameters<ArchiveStore["put"]>[2]) => {
      store.puts++;
      return inner.put(key, body, onlyIf);
    },
    get: (key: string) => inner.get(key),
    list: (prefix: string, cursor?: string) => inner.list(prefix, cursor),
    delete: (keys: readonly string[]) => inner.delete(keys),
  };
  return store;
}

async function consumerPath(label: string, events: Event[], inner: ArchiveStore): Promise<void> {
  const batches = batchesOf(events);
  const store = counting(inner);
  // As one consumer isolate during the live hour: a marker per property and hour, not per file.
  const marks = new PendingMarks();
  const json = events.reduce((n, e) => n + JSON.stringify(e).length, 0);
  let files = 0;
  let bytes = 0;
  const wall = performance.now();
  const cpu = cpuMs();
  for (const batch of batches)
    for (const group of groupMessages(batch)) {
      const encoded = await encodeGroup(group, zstdCodec);
      await storeGroup(store, encoded, marks, HOUR + HOUR_MS / 2);
      files++;
      bytes += encoded.bytes.byteLength;
    }
  const seconds = (performance.now() - wall) / 1000;
  const cpuSeconds = (cpuMs() - cpu) / 1000;
  if (label === "warm-up") return;
  console.log(`  ${label}`);
  console.log(
    `    ${events.length.toLocaleString()} events in ${batches.length} batches → ${files.toLocaleString()} files (${(events.length / files).toFixed(0)} events/file)`,
  );
  console.log(
    `    ${((store.puts / events.length) * 1000).toFixed(0)} writes per 1,000 events (files + pending markers)`,
  );
  console.log(
    `    ${Math.round(events.length / seconds).toLocaleString()} rows/s written (${Math.round(events.length / cpuSeconds).toLocaleString()} per CPU-second), ${(bytes / events.length).toFixed(1)} bytes/event in Parquet (JSON: ${(json / events.length).toFixed(0)})`,
  );
}

async function compaction(store: ArchiveStore, property: string): Promise<void> {
  const partition = partitionOf(property, HOUR);
  const before = await listAll(store, `events/property_id=${property}/`);
  const inputBytes = before.reduce((n, o) => n + o.size, 0);
  const wall = performance.now();
  const cpu = cpuMs();
  const result = await compactHour(store, zstdCodec, partition, { now: () => HOUR + 3 * HOUR_MS });
  const seconds = (performance.now() - wall) / 1000;
  const cpuSeconds = (cpuMs() - cpu) / 1000;
  const after = (await listAll(store, `events/property_id=${property}/`)).filter((o) => o.key.endsWith(".parquet"));
  const outputBytes = after.reduce((n, o) => n + o.size, 0);
  console.log(
    `  ${before.length} batch files (${(inputBytes / result.rows_written).toFixed(1)} bytes/event) → ${after.length} compacted files (${(outputBytes / result.rows_written).toFixed(1)} bytes/event)`,
  );
  console.log(
    `  ${result.rows_written.toLocaleString()} rows in ${result.steps} steps: ${Math.round(result.rows_written / seconds).toLocaleString()} rows/s (${Math.round(result.rows_written / cpuSeconds).toLocaleString()} per CPU-second), ${((seconds / Math.max(1, result.steps)) * 1000).toFixed(0)} ms per step of ≤ ${COMPACTION_DEFAULTS.maxRowsPerFile.toLocaleString()} rows (budget per Cron run: 20 s)`,
  );
}

function codecTable(): void {
  const records = generate(500, 1).map((e) => toArchiveRecord(e, e.event_timestamp + 40));
  console.log(
    `  rows/file   ZSTD ms/file  bytes/event   raw ms/file  bytes/event   (raw below ${COMPRESS_FROM_ROWS} rows)`,
  );
  for (const n of [1, 5, 20, 64, 200, 500]) {
    const slice = records.slice(0, n);
    const measure = (compressFromRows: number) => {
      const reps = Math.max(5, Math.round(2000 / n));
      let bytes = 0;
      const t = performance.now();
      for (let i = 0; i < reps; i++) bytes = encodeArchiveFile(slice, zstdCodec, { compressFromRows }).byteLength;
      return { ms: (performance.now() - t) / reps, perEvent: bytes / n };
    };
    measure(0);
    const z = measure(0);
    const raw = measure(Number.POSITIVE_INFINITY);
    console.log(
      `  ${String(n).padStart(9)}   ${z.ms.toFixed(2).padStart(12)}  ${z.perEvent.toFixed(0).padStart(11)}   ${raw.ms.toFixed(2).padStart(11)}  ${raw.perEvent.toFixed(0).padStart(11)}`,
    );
  }
}

console.log("\nArchive (Parquet via hyparquet-writer, ZSTD via node:zlib; in-process store):");
// Warm-up: JIT and zstd contexts.
await consumerPath("warm-up", generate(5_000, 50), new MemoryArchiveStore());
console.log("\n File size and codec (realistic events):");
codecTable();
console.log("\n Consumer path (encode + put):");
await consumerPath(
  "a batch spread over 200 properties (skewed): many small files",
  generate(Math.min(EVENTS, 50_000), 200),
  new MemoryArchiveStore(),
);
const single = new MemoryArchiveStore();
const one = generate(EVENTS, 1);
await consumerPath("one property per batch: 500 events per file", one, single);
console.log("\n Compaction of that property's hour:");
await compaction(single, one[0]?.property_id ?? "UA-1000-1");
