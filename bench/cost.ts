/**
 * `npm run bench:cost` (issue #14): drives the dev stack with realistic traffic (bench/cost-traffic.ts)
 * three times — requests of 1 event, of the realistic mix, of 20 — and counts every billed operation
 * at its source: Worker requests as sent; queue messages, actor RPCs and SQLite rows from the
 * consumers' per-batch `tally_metric` lines; R2 writes from the archive consumer's; ClickHouse
 * inserts and rows written (tables and views) from the engine's own `system.events` counters.
 * Prints the cost per billion events per line at list prices (shared/REFERENCE.md), and last:
 * `cost per 1B events: R=1 $x, R=mix $y, R=20 $z` at 10 requests/s per isolate.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigSchema } from "../core/config.ts";
import { type DevStack, startDevStack } from "../dev/stack.ts";
import { type Design, designsAt, type Line, type Measured, packing, priceLines, total } from "./cost-model.ts";
import { type CostRequest, costTraffic, PROPERTIES, propertyId, type RequestSize } from "./cost-traffic.ts";

/** The shipped ingest stage (INGEST_WINDOW_MS), at actors sized to ~1,000 requests/s (a DO's soft limit). */
const INGEST_WINDOW_MS = ConfigSchema.shape.INGEST_WINDOW_MS.parse(undefined);
const INGEST_SHARD_RATE = 1_000;
/** The last run's counts, so the price model can be re-run without the stack (BENCH_COST_REUSE=1). */
const COUNTS_FILE = ".data/bench-cost-counts.json";

const EVENTS = Number(process.env.BENCH_COST_EVENTS ?? 6_000);
const CONCURRENCY = 16;
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

interface Counts {
  events: number;
  requests: number;
  messages: number;
  messageBytes: number;
  jsonBytes: number;
  batches: number;
  sessionRpcs: number;
  propertyRpcs: number;
  doRows: number;
  chInserts: number;
  chRows: number;
}

async function clickhouseCounters(stack: DevStack): Promise<{ inserts: number; rows: number }> {
  const sql =
    "SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'InsertedRows') FORMAT JSONEachRow";
  const text = await stack.clickhouseText(sql);
  const rows = text.trim()
    ? text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { event: string; value: string })
    : [];
  const value = (name: string) => Number(rows.find((r) => r.event === name)?.value ?? 0);
  return { inserts: value("InsertQuery"), rows: value("InsertedRows") };
}

function metricLines(output: string, metric: string): Record<string, number>[] {
  const re = new RegExp(`\\{"tally_metric":"${metric}"[^}]*\\}`, "g");
  return [...output.matchAll(re)].map((m) => JSON.parse(m[0]) as Record<string, number>);
}

const sum = (lines: Record<string, number>[], key: string) => lines.reduce((n, l) => n + (l[key] ?? 0), 0);

async function send(stack: DevStack, requests: readonly CostRequest[]): Promise<number> {
  let next = 0;
  let accepted = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const r = next++;
        const request = requests[r] as CostRequest;
        const res = await fetch(`${stack.url}/collect`, {
          method: "POST",
          headers: { "User-Agent": UA, "CF-Connecting-IP": `198.51.100.${r % 250}` },
          body: JSON.stringify(request.events),
        });
        if (res.status === 202) accepted += request.events.length;
        else await res.body?.cancel();
      }
    }),
  );
  return accepted;
}

async function scenario(stack: DevStack, size: RequestSize): Promise<Counts> {
  const requests = costTraffic(size, EVENTS, Date.now());
  const offset = stack.output().length;
  const before = await clickhouseCounters(stack);
  const accepted = await send(stack, requests);
  // The consumer's batches close within ~1 s; it archives, then feeds the actors and ClickHouse.
  const deadline = Date.now() + 150_000;
  let live: Record<string, number>[] = [];
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    live = metricLines(stack.output().slice(offset), "consumer_batch");
    if (sum(live, "events") >= accepted) break;
  }
  // ClickHouse inserts of the last batch land just after its line.
  await new Promise((r) => setTimeout(r, 2_000));
  const after = await clickhouseCounters(stack);
  return {
    events: accepted,
    requests: requests.length,
    messages: sum(live, "messages"),
    messageBytes: sum(live, "message_bytes"),
    jsonBytes: sum(live, "json_bytes"),
    batches: live.length,
    sessionRpcs: sum(live, "session_rpcs"),
    propertyRpcs: sum(live, "property_rpcs"),
    doRows: sum(live, "do_rows_written"),
    chInserts: after.inserts - before.inserts,
    chRows: after.rows - before.rows,
  };
}

function measured(c: Counts): Measured {
  return {
    eventsPerRequest: c.events / c.requests,
    jsonBytesPerRequest: c.jsonBytes / c.requests,
    compression: c.jsonBytes / Math.max(1, c.messageBytes),
    rowsPerActorCall: c.doRows / Math.max(1, c.sessionRpcs + c.propertyRpcs),
    clickhouseRowsPerEvent: c.chRows / c.events,
  };
}

const usd = (x: number) => `$${x < 10 ? x.toFixed(2) : Math.round(x).toLocaleString()}`;

function printLines(title: string, lines: readonly Line[]): void {
  console.log(`  ${title}`);
  for (const [name, count, dollars] of lines)
    console.log(`    ${name.padEnd(42)} ${Math.round(count).toLocaleString().padStart(15)}  ${usd(dollars)}`);
  console.log(`    ${"total".padEnd(42)} ${"".padStart(15)}  ${usd(total(lines))}`);
}

/** Runs the three scenarios on the dev stack (or, with BENCH_COST_REUSE=1, reads the last run's counts). */
async function measureAll(): Promise<Record<RequestSize, Counts>> {
  if (process.env.BENCH_COST_REUSE === "1") return JSON.parse(readFileSync(COUNTS_FILE, "utf8"));
  const stack = await startDevStack();
  try {
    const admin = { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" };
    let created = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (created < PROPERTIES) {
          const i = created++;
          const body = JSON.stringify({
            property_id: propertyId(i),
            name: `Cost ${i + 1}`,
            domains: [`site${i}.example`],
          });
          await (
            await fetch(`${stack.url}/api/v1/properties`, { method: "POST", headers: admin, body })
          ).body?.cancel();
        }
      }),
    );
    // Warm-up: one event per property, unmeasured, so each actor's first-call writes (its
    // session-timeout alarm, its first snapshot) are not charged to a few thousand events; at
    // volume an actor pays them once per half hour.
    const warm = Array.from({ length: PROPERTIES }, (_, i): CostRequest => {
      const event = { property_id: propertyId(i), client_id: `warm-${i}`, event_type: "pageview" };
      const page_url = `https://site${i}.example/`;
      return {
        property: propertyId(i),
        visitor: `warm-${i}`,
        events: [{ ...event, page_url, event_timestamp: Date.now() }],
      };
    });
    const warmOffset = stack.output().length;
    const warmed = await send(stack, warm);
    while (sum(metricLines(stack.output().slice(warmOffset), "consumer_batch"), "events") < warmed)
      await new Promise((r) => setTimeout(r, 1_000));
    const counts = {} as Record<RequestSize, Counts>;
    for (const size of ["1", "mix", "20"] as const) counts[size] = await scenario(stack, size);
    mkdirSync(dirname(COUNTS_FILE), { recursive: true });
    writeFileSync(COUNTS_FILE, JSON.stringify(counts));
    return counts;
  } finally {
    await stack.stop();
  }
}

const counts = await measureAll();
const shipped: Record<RequestSize, Measured | undefined> = { "1": undefined, mix: undefined, "20": undefined };
for (const size of ["1", "mix", "20"] as const) {
  const c = counts[size];
  const m = measured(c);
  shipped[size] = m;
  console.log(
    `\nR=${size}: ${c.events.toLocaleString()} events in ${c.requests.toLocaleString()} requests (${m.eventsPerRequest.toFixed(2)}/request) over ${PROPERTIES.toLocaleString()} Zipf properties, this run:`,
  );
  console.log(
    `  ${c.messages} queue messages (${(c.requests / Math.max(1, c.messages)).toFixed(1)} requests each; ${Math.round(m.jsonBytesPerRequest)} B of event JSON per request, compressed ${m.compression.toFixed(1)}x), ` +
      `${c.batches} consumer deliveries (${Math.round(c.events / Math.max(1, c.batches))} events each), ` +
      `${c.sessionRpcs + c.propertyRpcs} actor calls writing ${c.doRows} SQLite rows (${m.rowsPerActorCall.toFixed(2)} a call), ` +
      `ClickHouse ${c.chInserts} inserts, ${m.clickhouseRowsPerEvent.toFixed(1)} rows written per event (tables and views)`,
  );
  for (const [rate, shardRate] of [[10, INGEST_SHARD_RATE]] as const)
    for (const d of designsAt(rate, shardRate, INGEST_WINDOW_MS)) {
      const p = packing(m, d);
      printLines(
        `per 1B events at the spec's volume, ${d.name === "ingest" ? `ingest stage (${shardRate} requests/s per actor, ${d.windowMs} ms window)` : `isolate packer (${rate} requests/s per isolate, ${d.windowMs} ms window)`}: ${p.requestsPerMessage.toFixed(1)} requests per message`,
        priceLines(m, d),
      );
    }
}
const ratio = (m: Measured, d: Design) => {
  const lines = priceLines(m, d);
  const count = (name: string) => lines.find(([n]) => n.startsWith(name))?.[1] ?? 0;
  const r2A = count("R2 Class A: archive") + count("R2 Class A: compaction");
  return `queue ops ${(count("Queue") / 1e6).toFixed(1)} (target 20), SQLite rows ${(count("DO SQLite") / 1e6).toFixed(1)} (target 5), R2 Class A ${(r2A / 1e6).toFixed(2)} (target 0.1; the consumer's files alone ${(count("R2 Class A: archive") / 1e6).toFixed(3)}) per 1,000 events`;
};
const mix = shipped.mix as Measured;
console.log(
  `\nTargets at R=mix (ingest stage): ${ratio(mix, designsAt(10, INGEST_SHARD_RATE, INGEST_WINDOW_MS)[1] as Design)}`,
);
console.log(
  "\nBy rate (Cloudflare lines; the ingest stage's cost does not depend on the isolate's rate, only on its actors'):",
);
const totals: Record<string, Record<RequestSize, number>> = {};
for (const rate of [1, 10, 100]) {
  for (const d of designsAt(rate, INGEST_SHARD_RATE, INGEST_WINDOW_MS)) {
    const t = { "1": 0, mix: 0, "20": 0 } as Record<RequestSize, number>;
    for (const size of ["1", "mix", "20"] as const) t[size] = total(priceLines(shipped[size] as Measured, d));
    totals[`${d.name}@${rate}`] = t;
    console.log(
      `  at ${rate} requests/s per isolate, ${d.name.padEnd(7)}: R=1 ${usd(t["1"])}, R=mix ${usd(t.mix)}, R=20 ${usd(t["20"])}`,
    );
  }
}
for (const shardRate of [100, 300, 1_000, 2_500]) {
  const d = { name: "ingest", isolateRate: 10, shardRate, windowMs: INGEST_WINDOW_MS } as const;
  const t = (size: RequestSize) => usd(total(priceLines(shipped[size] as Measured, d)));
  console.log(`  ingest actors at ${shardRate} requests/s each: R=1 ${t("1")}, R=mix ${t("mix")}, R=20 ${t("20")}`);
}
const last = totals["ingest@10"] as Record<RequestSize, number>;
console.log(
  `cost per 1B events: R=1 $${last["1"].toFixed(0)}, R=mix $${last.mix.toFixed(0)}, R=20 $${last["20"].toFixed(0)}`,
);
