/**
 * `npm run bench` (query): query latency on 10M generated events over 30 days, through the API and
 * as the same SQL run directly, in one run.
 *
 * The embedded ClickHouse (scripts/clickhouse-server.ts, chDB) runs in its own process over a
 * dataset made by bench/generate-events.ts, kept under `.bench-data/` and keyed by the generator's
 * parameters, its source (generate-events.ts, generate-model.ts, generate-sql.ts) and the migrations, so later runs
 * skip generation. The Worker is bundled by wrangler and run in one workerd through Miniflare's API
 * (as bench/ingest.ts does), pointed at that ClickHouse; the targets are in bench/query-targets.ts. For each target — the overview report, the pages report, a query with three
 * filters by day, a three-step funnel — it alternates A B A B: the API over HTTP, then the SQL the
 * core builders make for it (normaliseQuery → planQuery → buildQuerySql / buildFunnelSql) sent
 * straight to ClickHouse with the Worker's own client and settings; the overview's statements
 * concurrently, as the Worker sends them. Figures are printed, never asserted.
 *
 * The query cache is off: Miniflare's `cacheAPI: false` gives the Worker a Cache API that never
 * hits (and no Upstash URL is set), so every request takes the miss path production takes for a new
 * question — cache lookup included — with the very same query each time.
 *
 * BENCH_QUERY_EVENTS (10M), BENCH_QUERY_ITERATIONS (40), BENCH_QUERY_FRESH=1 (regenerate) tune it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client-web";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { DAY_MS } from "../core/time.ts";
import { freePort } from "../dev/free-port.ts";
import { CLICKHOUSE_MIGRATIONS_DIR, readClickHouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { bundleWorker } from "./bundle.ts";
import { type GenerateReport, generateEvents, tableSizes } from "./generate-events.ts";
import { dateOf, HOT_RETENTION_DAYS, PROPERTY, type Statement, type Target, targets } from "./query-targets.ts";

const EVENTS = Number(process.env.BENCH_QUERY_EVENTS ?? 10_000_000);
const ITERATIONS = Number(process.env.BENCH_QUERY_ITERATIONS ?? 40);
const WARMUP = 5;
const DAYS = 30;
const SEED = 1;
const TARGET_OVERVIEW_P95_MS = 150;
const TARGET_OVERHEAD = 1.3;

// ---------------------------------------------------------------------------------------------
// The dataset: reused when the generator, the migrations and the parameters are unchanged.

interface Dataset {
  end: number;
  generated: GenerateReport;
}

function datasetDir(): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ EVENTS, DAYS, SEED, PROPERTY }));
  for (const file of ["./generate-events.ts", "./generate-model.ts", "./generate-sql.ts"])
    hash.update(readFileSync(new URL(file, import.meta.url)));
  for (const file of readdirSync(CLICKHOUSE_MIGRATIONS_DIR).sort())
    hash.update(readFileSync(join(CLICKHOUSE_MIGRATIONS_DIR, file)));
  return join(".bench-data", `query-${EVENTS}-${hash.digest("hex").slice(0, 12)}`);
}

/** A cached dataset is usable while its 30 days stay inside the hot retention (the API's ClickHouse range). */
function cachedDataset(dir: string): Dataset | undefined {
  const file = join(dir, "dataset.json");
  if (process.env.BENCH_QUERY_FRESH === "1" || !existsSync(file)) return undefined;
  const dataset = JSON.parse(readFileSync(file, "utf8")) as Dataset;
  return dataset.end - DAYS * DAY_MS > Date.now() - (HOT_RETENTION_DAYS - 5) * DAY_MS ? dataset : undefined;
}

async function startClickHouse(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["scripts/clickhouse-server.ts"], {
    env: { ...process.env, CLICKHOUSE_PORT: String(port), CLICKHOUSE_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => d.toString().includes("listening") && resolve());
    child.once("exit", (code) => reject(new Error(`ClickHouse exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

// ---------------------------------------------------------------------------------------------
// Running and timing.

/** One statement as workers/query/run.ts runs it: JSONEachRow, every row parsed. */
async function runStatement(client: ClickHouseClient, s: Statement): Promise<void> {
  const result = await client.query({
    query: s.sql,
    query_params: s.params,
    format: "JSONEachRow",
    ...(s.settings ? { clickhouse_settings: s.settings } : {}),
  });
  await result.json();
}

/**
 * Rows the engine read for a statement, from the JSON format's `statistics` (the embedded server's
 * X-ClickHouse-Summary counts result rows as chDB reports them, not rows read).
 */
async function rowsRead(client: ClickHouseClient, s: Statement): Promise<number> {
  const result = await client.query({ query: s.sql, query_params: s.params, format: "JSON" });
  return (await result.json<unknown>()).statistics?.rows_read ?? 0;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await f();
  return [performance.now() - started, value];
}

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? Number.NaN;
};

/**
 * CPU seconds used so far by the whole machine and by this process with its descendants (the
 * ClickHouse server, workerd): the difference over the measurement is other processes' load, which
 * slows every figure. Linux /proc; undefined elsewhere.
 */
function cpuSeconds(): { machine: number; ours: number } | undefined {
  try {
    const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);
    const stats = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .flatMap((pid) => {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
          return [{ pid: Number(pid), ppid: Number(fields[1]), ticks: ticks(fields) }];
        } catch {
          return []; // the process ended meanwhile
        }
      });
    const ours = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of stats)
        if (ours.has(p.ppid) && !ours.has(p.pid)) {
          ours.add(p.pid);
          grew = true;
        }
    }
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]?.split(/\s+/).slice(1).map(Number) ?? [];
    const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0); // minus idle and iowait
    return { machine: busy / 100, ours: stats.filter((p) => ours.has(p.pid)).reduce((a, p) => a + p.ticks, 0) / 100 };
  } catch {
    return undefined;
  }
}

function startWorker(clickhouseUrl: string): Miniflare {
  // Miniflare 5 (the one wrangler 4.164 uses) takes a new options shape; the v4 shape converts.
  return new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          name: "tally",
          modules: true,
          scriptPath: bundleWorker("workers/main.ts", join(".bench-data", "worker")),
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
          // The query cache off: a Cache API that never hits (see the header).
          cacheAPI: false,
          queueProducers: { EVENTS_QUEUE: { queueName: "events" } },
          r2Buckets: ["ARCHIVE_BUCKET"],
          durableObjects: { PROPERTY_DO: "PropertyDO", REGISTRY_DO: "RegistryDO", SESSION_DO: "SessionDO" },
          ratelimits: {
            IP_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 100, period: 60 } },
            PROPERTY_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 400, period: 60 } },
          },
          bindings: {
            CLICKHOUSE_URL: clickhouseUrl,
            CLICKHOUSE_DATABASE: "default",
            CLICKHOUSE_USER: "default",
            CLICKHOUSE_PASSWORD: "",
            ADMIN_TOKEN: "bench-admin",
            HOT_RETENTION_DAYS: String(HOT_RETENTION_DAYS),
            UPSTASH_REDIS_REST_URL: "",
            // The hourly query quota is measured elsewhere; here it must not refuse the bench's requests.
            QUERY_LIMIT_PER_HOUR: "1000000",
          },
        },
      ],
    }),
  );
}

async function createProperty(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/properties`, {
    method: "POST",
    headers: { Authorization: "Bearer bench-admin", "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: PROPERTY, name: "Query bench", domains: ["www.example.com"], timezone: "UTC" }),
  });
  if (res.status !== 201) throw new Error(`creating the bench property failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { api_key: string }).api_key;
}

/** The API's answer, checked: 200, not from the cache; its plan and echoed query. */
async function callApi(base: string, t: Target) {
  const res = await fetch(t.request(base));
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${t.name}: ${res.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { meta?: { cached?: boolean; plan?: string }; query?: unknown };
  if (body.meta?.cached) throw new Error(`${t.name}: answered from the cache; the bench must measure the miss path`);
  if (t.echo !== undefined && JSON.stringify(body.query) !== JSON.stringify(t.echo))
    throw new Error(
      `${t.name}: the API ran another query than the bench's\n${JSON.stringify(body.query)}\n${JSON.stringify(t.echo)}`,
    );
  return body;
}

// ---------------------------------------------------------------------------------------------

mkdirSync(".bench-data", { recursive: true });
const dir = datasetDir();
let dataset = cachedDataset(dir);
if (!dataset) {
  // A stale copy (older generator, migrations or end date) of this size goes: each is gigabytes.
  for (const stale of readdirSync(".bench-data", { withFileTypes: true }))
    if (stale.isDirectory() && stale.name.startsWith(`query-${EVENTS}-`))
      rmSync(join(".bench-data", stale.name), { recursive: true, force: true });
}
mkdirSync(dir, { recursive: true });
const clickhouse = await startClickHouse(join(dir, "clickhouse"));
let mf: Miniflare | undefined;
const client = createClient({ url: clickhouse.url, request_timeout: 1_800_000 });
// As platform/clickhouse.ts makes the Worker's client.
const direct = createClient({ url: clickhouse.url, keep_alive: { enabled: false }, request_timeout: 30_000 });
try {
  await migrate(client, readClickHouseMigrations());
  if (dataset) {
    console.error(`Reusing the dataset in ${dir} (delete it or set BENCH_QUERY_FRESH=1 to regenerate)`);
  } else {
    console.error(`Generating ${EVENTS.toLocaleString()} events over ${DAYS} days into ${dir} …`);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const generated = await generateEvents(client, {
      property_id: PROPERTY,
      events: EVENTS,
      days: DAYS,
      end: today,
      seed: SEED,
    });
    dataset = { end: today, generated };
    writeFileSync(join(dir, "dataset.json"), JSON.stringify(dataset, null, 2));
  }
  const sizes = await tableSizes(client);
  const start = dateOf(dataset.end - DAYS * DAY_MS);
  const end = dateOf(dataset.end - DAY_MS);

  mf = startWorker(clickhouse.url);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const apiKey = await createProperty(base);
  const now = Date.now();
  const list = targets(apiKey, start, end, now);

  const cpuBefore = cpuSeconds();
  const measureStarted = performance.now();
  const samples = list.map(() => ({ api: [] as number[], direct: [] as number[], plan: "" }));
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (const [k, t] of list.entries()) {
      const [apiMs, body] = await timed(() => callApi(base, t));
      const [directMs] = await timed(() => Promise.all(t.statements.map((s) => runStatement(direct, s))));
      const slot = samples[k];
      if (!slot || i < WARMUP) continue;
      slot.api.push(apiMs);
      slot.direct.push(directMs);
      slot.plan = body.meta?.plan ?? t.statements[0]?.plan ?? "";
    }
    if (i === WARMUP - 1) console.error(`warm-up done; measuring ${ITERATIONS} iterations`);
  }

  const cpuAfter = cpuSeconds();
  const measureSeconds = (performance.now() - measureStarted) / 1000;
  // Rows read per statement (once, untimed); then each overview statement alone, one after
  // another, to show where the overview's time goes.
  const rows = new Map<Statement, number>();
  for (const t of list) for (const s of t.statements) rows.set(s, await rowsRead(direct, s));
  const overviewStatements = list[0]?.statements ?? [];
  const alone = overviewStatements.map(() => [] as number[]);
  for (let i = 0; i < 15; i++)
    for (const [k, s] of overviewStatements.entries()) alone[k]?.push((await timed(() => runStatement(direct, s)))[0]);

  const g = dataset.generated;
  console.log(
    `\nQuery bench: ${g.events.toLocaleString()} events, ${g.sessions.toLocaleString()} sessions, ${start} … ${end} (UTC)`,
  );
  console.log(
    `generated in ${(g.insert_seconds + g.session_log_seconds + g.optimize_seconds).toFixed(0)} s (events ${g.insert_seconds.toFixed(0)} s = ${Math.round(g.events / g.insert_seconds).toLocaleString()} rows/s, session_log ${g.session_log_seconds.toFixed(0)} s, OPTIMIZE FINAL ${g.optimize_seconds.toFixed(0)} s)`,
  );
  for (const s of sizes)
    console.log(
      `  ${s.table.padEnd(16)} ${s.rows.toLocaleString().padStart(12)} rows ${(s.bytes / 2 ** 20).toFixed(1).padStart(8)} MiB on disk, ${s.parts} parts`,
    );
  console.log(
    `\n${ITERATIONS} iterations after ${WARMUP} warm-up, A B A B: API = HTTP to one workerd (Miniflare), cache off;`,
  );
  console.log(
    "direct = the same SQL from the core builders over ClickHouse HTTP from Node (overview: its statements concurrently)",
  );
  if (cpuBefore && cpuAfter) {
    const others =
      Math.max(0, cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours)) / measureSeconds;
    console.log(
      `other processes used ${others.toFixed(2)} of ${availableParallelism()} cores during the measurement (they slow every figure)`,
    );
  }
  console.log("");
  console.log(
    "target             stmts  API p50  API p95  direct p50  direct p95  API/direct p50   p95    rows read  plan",
  );
  const verdicts: string[] = [];
  for (const [k, t] of list.entries()) {
    const s = samples[k];
    if (!s) continue;
    const [a50, a95, d50, d95] = [
      percentile(s.api, 0.5),
      percentile(s.api, 0.95),
      percentile(s.direct, 0.5),
      percentile(s.direct, 0.95),
    ];
    const [r50, r95] = [a50 / d50, a95 / d95];
    console.log(
      `${t.name.padEnd(18)} ${String(t.statements.length).padStart(5)} ${a50.toFixed(1).padStart(8)} ${a95.toFixed(1).padStart(8)} ${d50.toFixed(1).padStart(11)} ${d95.toFixed(1).padStart(11)} ${r50.toFixed(2).padStart(14)}× ${r95.toFixed(2).padStart(5)}× ${t.statements
        .reduce((n, x) => n + (rows.get(x) ?? 0), 0)
        .toLocaleString()
        .padStart(12)}  ${s.plan}`,
    );
    verdicts.push(
      `  API overhead ≤ ${TARGET_OVERHEAD}× (${t.name}): p50 ${r50.toFixed(2)}×, p95 ${r95.toFixed(2)}× — ${Math.max(r50, r95) <= TARGET_OVERHEAD ? "met" : "missed"}`,
    );
    if (t.name === "overview")
      verdicts.unshift(
        `  overview p95 ≤ ${TARGET_OVERVIEW_P95_MS} ms: ${a95.toFixed(1)} ms through the API — ${a95 <= TARGET_OVERVIEW_P95_MS ? "met" : "missed"}`,
      );
  }
  console.log("\nTargets (issue #5, on this machine):");
  for (const v of verdicts) console.log(v);
  console.log("\nThe overview's statements, each alone (direct, 15 runs, one after another):");
  for (const [k, s] of overviewStatements.entries()) {
    const a = alone[k];
    if (a)
      console.log(
        `  ${s.name.padEnd(22)} p50 ${percentile(a, 0.5).toFixed(1).padStart(6)} ms ${(rows.get(s) ?? 0).toLocaleString().padStart(12)} rows read  ${s.plan}`,
      );
  }
} finally {
  await mf?.dispose();
  await client.close();
  await direct.close();
  const exited = new Promise((r) => clickhouse.child.once("exit", r));
  clickhouse.child.kill("SIGTERM");
  await exited;
}
