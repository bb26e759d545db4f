/**
 * `npm run bench:cost` (issue #14): drives the dev stack with realistic traffic (bench/cost-traffic.ts)
 * three times — requests of 1 event, of the realistic mix, of 20 — and counts every billed operation
 * at its source: Worker requests as sent; queue messages, actor RPCs and SQLite rows from the
 * consumers' per-batch `tally_metric` lines; R2 writes from the archive consumer's; ClickHouse
 * inserts and rows written (tables and views) from the engine's own `system.events` counters.
 * Prints the cost per billion events per line at list prices (shared/REFERENCE.md), and last:
 * `cost per 1B events: R=1 $x, R=mix $y, R=20 $z` at 10 requests/s per isolate.
 */
import { type DevStack, startDevStack } from "../dev/stack.ts";
import { type CostRequest, costTraffic, PROPERTIES, propertyId, type RequestSize } from "./cost-traffic.ts";

const EVENTS = Number(process.env.BENCH_COST_EVENTS ?? 6_000);
const CONCURRENCY = 16;
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/** List prices per unit (shared/REFERENCE.md). */
const PRICE = {
  request: 0.3e-6,
  cpuMs: 0.02e-6,
  queueOp: 0.4e-6,
  doRequest: 0.15e-6,
  doRow: 1e-6,
  r2A: 4.5e-6,
  r2B: 0.36e-6,
};
/** Edge CPU per request from `npm run bench` (ingest, edge code): 336 µs at 1 event, 676 µs at 20. Not measured here. */
const cpuMsPerRequest = (eventsPerRequest: number) => 0.336 + ((0.676 - 0.336) * (eventsPerRequest - 1)) / 19;

interface Counts {
  events: number;
  requests: number;
  messages: number;
  archiveMessages: number;
  sessionRpcs: number;
  propertyRpcs: number;
  configRpcs: number;
  doRows: number;
  archiveFiles: number;
  propertyHours: number;
  chInserts: number;
  chRows: number;
}

async function clickhouseCounters(stack: DevStack): Promise<{ inserts: number; rows: number }> {
  const sql =
    "SELECT event, value FROM system.events WHERE event IN ('InsertQuery', 'InsertedRows') FORMAT JSONEachRow";
  const text = await (await fetch(`${stack.clickhouseUrl}/?query=${encodeURIComponent(sql)}`)).text();
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
  // The events queue flushes within ~1 s, the archive's within its 60 s batch timeout.
  const deadline = Date.now() + 150_000;
  let live: Record<string, number>[] = [];
  let archive: Record<string, number>[] = [];
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1_000));
    live = metricLines(stack.output().slice(offset), "consumer_batch");
    archive = metricLines(stack.output().slice(offset), "archive_batch");
    if (sum(live, "events") >= accepted && sum(archive, "events") >= accepted) break;
  }
  const after = await clickhouseCounters(stack);
  const hours = new Set(
    requests.flatMap((r) => r.events.map((e) => `${e.property_id}|${Math.floor(e.event_timestamp / 3_600_000)}`)),
  );
  return {
    events: accepted,
    requests: requests.length,
    messages: sum(live, "messages"),
    archiveMessages: sum(archive, "messages"),
    sessionRpcs: sum(live, "session_rpcs"),
    propertyRpcs: sum(live, "property_rpcs"),
    configRpcs: sum(live, "config_rpcs"),
    doRows: sum(live, "do_rows_written"),
    archiveFiles: sum(archive, "files"),
    propertyHours: hours.size,
    chInserts: after.inserts - before.inserts,
    chRows: after.rows - before.rows,
  };
}

/** Dollars per billion events, line by line. */
function lines(c: Counts): [string, number, number][] {
  const per1B = (x: number) => (x * 1e9) / c.events;
  const perRequest = c.events / c.requests;
  // Compaction, per property-hour: one LIST, one compacted file and one manifest written; each batch file read once.
  const r2A = c.archiveFiles * 2 + c.propertyHours * 3;
  const rpcs = c.sessionRpcs + c.propertyRpcs + c.configRpcs;
  return [
    ["Worker requests", per1B(c.requests), per1B(c.requests) * PRICE.request],
    [
      "Worker CPU (ms, edge)",
      per1B(c.requests * cpuMsPerRequest(perRequest)),
      per1B(c.requests * cpuMsPerRequest(perRequest)) * PRICE.cpuMs,
    ],
    ["Queue events (ops)", per1B(c.messages * 3), per1B(c.messages * 3) * PRICE.queueOp],
    ["Queue archive (ops)", per1B(c.archiveMessages * 3), per1B(c.archiveMessages * 3) * PRICE.queueOp],
    ["DO RPCs (incl. config lookups)", per1B(rpcs), per1B(rpcs) * PRICE.doRequest],
    ["DO SQLite rows written", per1B(c.doRows), per1B(c.doRows) * PRICE.doRow],
    ["R2 Class A (files, markers, compaction)", per1B(r2A), per1B(r2A) * PRICE.r2A],
    ["R2 Class B (compaction reads)", per1B(c.archiveFiles), per1B(c.archiveFiles) * PRICE.r2B],
  ];
}

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
        await (await fetch(`${stack.url}/api/v1/properties`, { method: "POST", headers: admin, body })).body?.cancel();
      }
    }),
  );
  const totals: Record<RequestSize, number> = { "1": 0, mix: 0, "20": 0 };
  for (const size of ["1", "mix", "20"] as const) {
    const c = await scenario(stack, size);
    const rows = lines(c);
    totals[size] = rows.reduce((n, [, , usd]) => n + usd, 0);
    console.log(
      `\nR=${size}: ${c.events.toLocaleString()} events in ${c.requests.toLocaleString()} requests (${(c.events / c.requests).toFixed(2)}/request) over ${PROPERTIES.toLocaleString()} Zipf properties; per 1B events:`,
    );
    for (const [name, count, usd] of rows)
      console.log(`  ${name.padEnd(40)} ${Math.round(count).toLocaleString().padStart(15)}  $${usd.toFixed(2)}`);
    console.log(`  ${"total (Cloudflare lines counted)".padEnd(40)} ${"".padStart(15)}  $${totals[size].toFixed(2)}`);
    console.log(
      `  ClickHouse: ${Math.round((c.chInserts * 1e9) / c.events).toLocaleString()} inserts, ${((c.chRows / c.events) * 1).toFixed(1)} rows written per event (tables and views); ${c.events / Math.max(1, c.chInserts) < 1 ? "<1" : Math.round(c.events / Math.max(1, c.chInserts))} events per insert`,
    );
  }
  console.log(
    "\nNot counted yet: Durable Object duration, consumer CPU, the edge's own property lookups (cached per isolate; the consumer's are in DO RPCs). " +
      "Per-isolate rate: the edge sends each request's events as its own message (no packing across requests), so 1, 10 and 100 requests/s per isolate cost the same.",
  );
  for (const rate of [1, 10, 100])
    console.log(
      `  at ${rate} requests/s per isolate: R=1 $${totals["1"].toFixed(0)}, R=mix $${totals.mix.toFixed(0)}, R=20 $${totals["20"].toFixed(0)}`,
    );
  console.log(
    `cost per 1B events: R=1 $${totals["1"].toFixed(0)}, R=mix $${totals.mix.toFixed(0)}, R=20 $${totals["20"].toFixed(0)}`,
  );
} finally {
  await stack.stop();
}
