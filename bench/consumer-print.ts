/**
 * bench/consumer.ts's report: the runs' throughput, what landed where, the delivery alone and the
 * figures net of it, and where workerd's time went in the profiled run.
 */
import { availableParallelism } from "node:os";
import { MESSAGES_PER_BATCH } from "./consumer-traffic.ts";
import { type CpuProfile, stageTimes } from "./cpu-profile.ts";

/** Around one delivery: wall and CPU seconds, workerd's peak memory, and the messages' fates. */
export interface Delivery {
  wall: number;
  workerdCpu: number;
  nodeCpu: number;
  workerdPeakMb: number;
  acked: number;
  retried: number;
}

/** One measured run: its delivery, what it sent and what landed where. */
export interface Run extends Delivery {
  commitMs: number;
  events: number;
  messages: number;
  batches: number;
  jsonBytes: number;
  bodyBytes: number;
  rows: number;
  distinctRows: number;
  logRows: number;
  chRowsWritten: number;
  archiveFiles: number;
  actorRpcs: number;
  doRows: number;
  noop?: Delivery;
}

export interface Profiled {
  run: Run;
  profile: CpuProfile;
  peakHeapBytes: number;
}

/** The consumer's stages by the functions that do them (consumers/events-consumer.ts, durable-objects/). */
const STAGES: Record<string, string> = {
  messageBody: "decompress messages (zstd)",
  decodeEventsMessage: "parse + validate messages (JSON, zod EventsMessageSchema)",
  archiveFirst: "archive: staging Parquet encode + R2 put",
  applyToActors: "actor hop, consumer side (grouping, RPC argument serialisation)",
  applyEvents: "SessionDO.applyEvents (session reducer)",
  "#commit": "SessionDO commit (visitor log, SQLite)",
  applyToWindows: "PropertyDO live windows (SQLite)",
  insertGroup: "ClickHouse rows (toClickHouseRow, JSONEachRow, HTTP)",
};

export function printReport({
  runs,
  profiled,
  properties: PROPERTIES,
  concurrency: CONCURRENCY,
  text: TEXT,
  profilePath: PROFILE_PATH,
}: {
  runs: readonly Run[];
  profiled: Profiled | undefined;
  properties: number;
  concurrency: number;
  text: boolean;
  profilePath: string;
}): void {
  const k = (x: number) => `${(x / 1000).toFixed(1)}K`;
  const first = runs[0];
  console.log(
    `\nConsumer bench: ${PROPERTIES} Zipf properties, ${first ? Math.round(first.events / first.messages) : "?"} events per message (${TEXT ? "text ≤ 64 KB" : "ZSTD bytes of ≤ MAX_PACKED_BYTES JSON"}), ${MESSAGES_PER_BATCH} messages per batch, ${CONCURRENCY} batch(es) in flight; one workerd, chDB in this process; ${availableParallelism()} cores\n`,
  );
  const pad = (x: string | number, n: number) => String(x).padStart(n);
  console.log(
    "ACTOR_COMMIT_MS   events  batches  wall s  events/s  workerd CPU s  node CPU s  events/s per core  per workerd core",
  );
  for (const r of runs) {
    const cpu = r.workerdCpu + r.nodeCpu;
    console.log(
      `${pad(r.commitMs, 15)} ${pad(r.events, 8)} ${pad(r.batches, 8)} ${pad(r.wall.toFixed(2), 7)} ${pad(k(r.events / r.wall), 9)} ${pad(r.workerdCpu.toFixed(2), 14)} ${pad(r.nodeCpu.toFixed(2), 11)} ${pad(k(r.events / cpu), 18)} ${pad(k(r.events / r.workerdCpu), 17)}`,
    );
  }
  console.log(
    "\nACTOR_COMMIT_MS   events  events rows  session_log rows  CH rows written/event  archive files  actor RPCs  DO rows  workerd peak RSS MB",
  );
  for (const r of runs)
    console.log(
      `${pad(r.commitMs, 15)} ${pad(r.events, 8)} ${pad(r.rows, 12)} ${pad(r.logRows, 17)} ${pad((r.chRowsWritten / r.events).toFixed(1), 22)} ${pad(r.archiveFiles, 14)} ${pad(r.actorRpcs, 11)} ${pad(r.doRows, 8)} ${pad(r.workerdPeakMb.toFixed(0), 20)}`,
    );
  console.log(
    "\nper core = events / (workerd + node CPU seconds); node = chDB (ClickHouse), its HTTP endpoint and Miniflare's client",
  );
  console.log(
    "The delivery alone (Miniflare's proxy handing the same volume to a consumer that only reads and acks), and the figures net of it:",
  );
  for (const r of runs) {
    if (!r.noop) continue;
    const net = { workerd: r.workerdCpu - r.noop.workerdCpu, node: r.nodeCpu - r.noop.nodeCpu };
    console.log(
      `  ACTOR_COMMIT_MS=${r.commitMs}, ${r.events} events: delivery workerd ${r.noop.workerdCpu.toFixed(2)} s + node ${r.noop.nodeCpu.toFixed(2)} s; net ${k(r.events / (net.workerd + net.node))} events/s per core, ${k(r.events / net.workerd)} per workerd core, ClickHouse ${k(r.events / net.node)} per node core`,
    );
  }
  for (const r of runs) {
    // A batch is delivered in chunks of ≤ 8 MB of event JSON, each with its staging file: at least one per batch.
    if (r.distinctRows === r.events && r.rows === r.events && r.acked === r.messages && r.archiveFiles >= r.batches)
      continue;
    console.log(
      `NOTE: ACTOR_COMMIT_MS=${r.commitMs}, ${r.events} events: ${r.rows} rows (${r.distinctRows} distinct), ${r.acked}/${r.messages} messages acked, ${r.retried} retried, ${r.archiveFiles} archive files for ${r.batches} batches`,
    );
  }
  if (first)
    console.log(
      `${Math.round(first.jsonBytes / first.events)} B of event JSON per event; messages ${(first.jsonBytes / first.bodyBytes).toFixed(1)}x compressed (generated events repeat more than real ones)`,
    );
  if (profiled) {
    const { run: r, profile } = profiled;
    const stages = stageTimes(profile, STAGES);
    const busy = stages.filter(([s]) => s !== "(idle)").reduce((n, [, ms]) => n + ms, 0);
    console.log(
      `\nWhere workerd's time goes (V8 profile of one more run, ACTOR_COMMIT_MS=${r.commitMs}, ${r.events} events, ${r.wall.toFixed(1)} s under the profiler; ${(busy / 1000).toFixed(2)} s busy):`,
    );
    for (const [stage, ms] of stages)
      if (stage !== "(idle)")
        console.log(
          `  ${((100 * ms) / busy).toFixed(1).padStart(5)}%  ${(ms / 1000).toFixed(2).padStart(6)} s  ${stage}`,
        );
    console.log(
      `  isolate heap peak seen: ${(profiled.peakHeapBytes / 1e6).toFixed(0)} MB (the Worker and its actors share it here; Cloudflare allows 128 MB per isolate); profile: ${PROFILE_PATH}`,
    );
    console.log(
      "  (program) is native work outside any JS frame (RPC arguments arriving in the actors, I/O); native work a JS call causes (serialising RPC arguments, SQLite, zstd) is that stage's. V8 samples wall time: on a shared machine, time the thread waited for a core lands on whatever was running",
    );
  }
}
