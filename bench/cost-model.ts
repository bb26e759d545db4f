/**
 * The price model of `npm run bench:cost` (issue #14): what one run measured on the dev stack
 * (bytes per request, compression, SQLite rows per actor call, ClickHouse rows per event), carried
 * to our spec's volume (50B events a day over the bench's 1,000 Zipf properties) and priced at
 * list prices (shared/REFERENCE.md), line by line, for the two hand-offs the edge can use:
 * - `isolate`: each isolate packs what it sees (INGEST_SHARDS=0): requests per message from
 *   `requestsPerMessage` at the per-isolate rate and PACK_WINDOW_MS;
 * - `ingest`: each request is one RPC to a location's ingest actor (the shipped default), which
 *   packs its shard's requests for INGEST_WINDOW_MS into compressed messages of ≤ 256 KB of JSON.
 * Volume-dependent counts (events per consumer batch, properties per batch, property-hours, actors
 * awake) are computed at the spec's volume, not taken from the run, whose few thousand events
 * would make every fixed per-batch and per-hour cost look like a per-event one.
 */
import { ConfigSchema } from "../core/config.ts";
import { PACK_WINDOW_MS } from "../core/ingest/packer.ts";
import { requestsPerMessage } from "../core/ingest/packing-model.ts";
import { MAX_MESSAGE_BYTES, MAX_PACKED_BYTES } from "../core/ingest/queue-message.ts";

/** List prices per unit (shared/REFERENCE.md). */
export const PRICE = {
  request: 0.3e-6,
  cpuMs: 0.02e-6,
  queueOp: 0.4e-6,
  doRequest: 0.15e-6,
  doRow: 1e-6,
  doGbSecond: 12.5e-6,
  r2A: 4.5e-6,
  r2B: 0.36e-6,
};

export const SPEC_EVENTS_PER_DAY = 50e9;
const SPEC_HOURS_PER_BILLION = (24 * 1e9) / SPEC_EVENTS_PER_DAY;
const MESSAGES_PER_BATCH = 100;
/** consumers/events-consumer.ts CHUNK_JSON_BYTES (a workerd module, so not imported here). */
const CHUNK_JSON_BYTES = 8_000_000;
/** Compaction's maxRowsPerFile, and core/archive/delivery.ts POOL_BELOW_ROWS. */
const COMPACTED_ROWS = 25_000;
const POOL_BELOW_ROWS = 1_000;
const DO_GB = 0.125;
/** ACTOR_COMMIT_MS (BENCH_ACTOR_COMMIT_MS prices another). */
const ACTOR_COMMIT_MS = Number(
  process.env.BENCH_ACTOR_COMMIT_MS ?? ConfigSchema.shape.ACTOR_COMMIT_MS.parse(undefined),
);
/** Edge CPU per request from `npm run bench` (ingest, edge code): 336 µs at 1 event, 676 µs at 20. */
const edgeCpuMs = (eventsPerRequest: number) => 0.336 + ((0.676 - 0.336) * (eventsPerRequest - 1)) / 19;
/** Consumer CPU per event: decode, Parquet + ZSTD, actors' reducers, ClickHouse JSON (REFERENCE: 8–14 µs floor, ×4). */
const CONSUMER_CPU_MS_PER_EVENT = 0.05;

/** What one scenario of the run measured. */
export interface Measured {
  eventsPerRequest: number;
  /** Event JSON bytes per request (uncompressed), from the consumer's decoded bodies. */
  jsonBytesPerRequest: number;
  /** JSON bytes per billed byte, on the run's compressed messages (1 when none were compressed). */
  compression: number;
  /** SQLite rows written per actor call (session + property RPCs), from the consumer's lines. */
  rowsPerActorCall: number;
  /** ClickHouse rows written per event, tables and views. */
  clickhouseRowsPerEvent: number;
}

export interface Design {
  name: "isolate" | "ingest";
  /** Requests per second each isolate serves. */
  isolateRate: number;
  /** Requests per second each ingest actor serves (ingest design). */
  shardRate: number;
  windowMs: number;
}

/** Cumulative Zipf weights (the bench's traffic: s = 1.1 over `n` properties). */
export function zipfWeights(n: number, s = 1.1): number[] {
  const w = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
}

/** Expected distinct properties among `events` Zipf draws. */
export function distinctProperties(weights: readonly number[], events: number): number {
  return weights.reduce((n, p) => n + 1 - (1 - p) ** events, 0);
}

export type Line = [name: string, countPerBillion: number, usd: number];

/** Requests per queue message and billed operations per message, for a design. */
export function packing(m: Measured, d: Design): { requestsPerMessage: number; opsPerMessage: number } {
  if (d.name === "isolate") {
    const rpm = requestsPerMessage(d.isolateRate, d.windowMs, m.jsonBytesPerRequest, MAX_MESSAGE_BYTES);
    return { requestsPerMessage: rpm, opsPerMessage: 3 };
  }
  const rpm = requestsPerMessage(d.shardRate, d.windowMs, m.jsonBytesPerRequest, MAX_PACKED_BYTES);
  const billedBytes = (rpm * m.jsonBytesPerRequest) / m.compression;
  return { requestsPerMessage: rpm, opsPerMessage: 3 * Math.max(1, Math.ceil(billedBytes / 65_536)) };
}

/** Dollars per billion events, line by line, at the spec's volume over `properties` Zipf properties. */
export function priceLines(m: Measured, d: Design, properties = 1_000): Line[] {
  const B = 1e9;
  const requests = B / m.eventsPerRequest;
  const { requestsPerMessage: rpm, opsPerMessage } = packing(m, d);
  const messages = requests / rpm;
  const eventsPerMessage = rpm * m.eventsPerRequest;
  // A consumer batch is delivered in chunks of ≤ CHUNK_JSON_BYTES of event JSON (consumers/events-consumer.ts).
  const eventsPerBatch = Math.min(
    MESSAGES_PER_BATCH * eventsPerMessage,
    CHUNK_JSON_BYTES / (m.jsonBytesPerRequest / m.eventsPerRequest),
  );
  const batches = B / eventsPerBatch;
  const weights = zipfWeights(properties);
  // One session actor (session_shards 1) and one property actor per property in a batch.
  const actorCalls = batches * 2 * distinctProperties(weights, eventsPerBatch);
  // Group commit: an actor called c times a second commits c / (1 + c·W) times a second (the
  // calls of a window share a commit), each commit writing what a call wrote in the run.
  const seconds = SPEC_HOURS_PER_BILLION * 3600;
  const batchesPerSecond = batches / seconds;
  const commits =
    2 *
    seconds *
    weights.reduce((n, p) => {
      const calls = batchesPerSecond * (1 - (1 - p) ** eventsPerBatch);
      return n + calls / (1 + (calls * ACTOR_COMMIT_MS) / 1000);
    }, 0);
  const configCalls = properties * 60 * SPEC_HOURS_PER_BILLION;
  const ingestCalls = d.name === "ingest" ? requests : 0;
  // Actors awake all the time at the spec's volume: every property's two, and the ingest shards.
  const ingestShards = d.name === "ingest" ? SPEC_EVENTS_PER_DAY / 86_400 / m.eventsPerRequest / d.shardRate : 0;
  const gbSeconds = (properties * 2 + ingestShards) * DO_GB * seconds;
  const rows = commits * m.rowsPerActorCall;
  // The consumer archives a delivery as a file per property-hour with ≥ POOL_BELOW_ROWS rows in it
  // and one pooled file for the rest (core/archive/delivery.ts); markers are once per partition and
  // hour per isolate (negligible). Compaction: per property-hour a LIST, the manifest and the
  // marker's rewrite, its compacted files (≤ 25,000 rows each); a read per delivery file.
  const busy = weights.filter((p) => p * eventsPerBatch >= POOL_BELOW_ROWS).length;
  const archiveFiles = batches * (busy + 1);
  const propertyHours = (busy + 1) * SPEC_HOURS_PER_BILLION;
  const compacted = Math.max(propertyHours, B / COMPACTED_ROWS);
  const compaction = 3 * propertyHours + compacted;
  const r2B = archiveFiles;
  const cpuMs = requests * edgeCpuMs(m.eventsPerRequest) + B * CONSUMER_CPU_MS_PER_EVENT;
  return [
    ["Worker requests", requests, requests * PRICE.request],
    ["Worker CPU ms (edge, consumer)", cpuMs, cpuMs * PRICE.cpuMs],
    ["Ingest actor calls (DO requests)", ingestCalls, ingestCalls * PRICE.doRequest],
    ["Queue operations", messages * opsPerMessage, messages * opsPerMessage * PRICE.queueOp],
    ["Actor calls (consumer; DO requests)", actorCalls + configCalls, (actorCalls + configCalls) * PRICE.doRequest],
    ["DO duration (GB-s)", gbSeconds, gbSeconds * PRICE.doGbSecond],
    ["DO SQLite rows written", rows, rows * PRICE.doRow],
    ["R2 Class A: archive files", archiveFiles, archiveFiles * PRICE.r2A],
    ["R2 Class A: compaction", compaction, compaction * PRICE.r2A],
    ["R2 Class B (compaction reads)", r2B, r2B * PRICE.r2B],
  ];
}

export const total = (lines: readonly Line[]) => lines.reduce((n, [, , usd]) => n + usd, 0);

/** The designs priced at a per-isolate rate: the isolate packer, and the ingest stage at a shard rate. */
export function designsAt(isolateRate: number, shardRate: number, ingestWindowMs: number): Design[] {
  return [
    { name: "isolate", isolateRate, shardRate: 0, windowMs: PACK_WINDOW_MS },
    { name: "ingest", isolateRate, shardRate, windowMs: ingestWindowMs },
  ];
}
