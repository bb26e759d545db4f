/**
 * `npm run bench` (fuzz): the full fuzz suite — ≥ 100,000 hostile requests from the generator of
 * test/support/fuzz-*.ts, spread over every public route of its table — against the real Worker in
 * one workerd (Miniflare's API, as the other benches run it) with the real queue consumer, the
 * embedded ClickHouse and the embedded PostgreSQL warehouse behind it.
 *
 * Prints counts per route and status class, and exits non-zero when any answer is a 5xx, any
 * refusal is not the error envelope, or anything stored is garbage: every archived record must be a
 * valid event of a property this run created, ClickHouse must hold only those properties, and the
 * events of the two fuzzed tenants must be in ClickHouse exactly as in the archive (nothing the edge
 * accepted was refused downstream). The scratch property takes erasures and its own deletion, so its
 * stores are only checked for validity. BENCH_FUZZ_CASES, BENCH_FUZZ_SEED, BENCH_FUZZ_CONCURRENCY
 * change the run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptionsShape } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ArchiveRecordSchema, MANIFEST_FILE } from "../core/archive/layout.ts";
import { decodeArchiveFile } from "../core/archive/parquet.ts";
import { startClickHouseServer } from "../dev/servers/clickhouse-server.ts";
import { startWarehouseServer } from "../dev/servers/warehouse-server.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../migrations/files.ts";
import { migrate } from "../migrations/migrator.ts";
import { migrateWarehouse } from "../migrations/postgres-target.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { type FuzzContext, FuzzTally, hostileCase, judge } from "../test/support/fuzz-cases.ts";
import { fuzzAssets, seededRng } from "../test/support/fuzz-inputs.ts";
import { controlCharFields, KNOWN_CONTROL_CHAR_FIELDS, knownBug } from "../test/support/fuzz-known.ts";
import { ROUTES, type Tenant } from "../test/support/fuzz-routes.ts";
import { bundleWorker } from "./bundle.ts";
import { printFuzzReport, type StoredCheck } from "./fuzz-print.ts";

const CASES = Number(process.env.BENCH_FUZZ_CASES ?? 100_000);
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? 0x5eed17);
const CONCURRENCY = Number(process.env.BENCH_FUZZ_CONCURRENCY ?? 16);
/** Only the routes whose name matches (a regular expression), to replay one route's cases. */
const ONLY = new RegExp(process.env.BENCH_FUZZ_ROUTES ?? "");
const ADMIN_TOKEN = "bench-fuzz-admin-token-0123456789abcdef";
/** Limits the fuzzer cannot exhaust: its cases should reach the code, not the limiter (the tests keep the real ones). */
const OPEN_LIMIT = { simple: { limit: 1_000_000_000, period: 60 as const } };

const dir = mkdtempSync(join(tmpdir(), "tally-bench-fuzz-"));
// Directly under the temporary folder: PostgreSQL, started as root, runs as another user that must enter it.
const warehouseDir = mkdtempSync(join(tmpdir(), "tally-bench-fuzz-warehouse-"));
const clickhouse = await startClickHouseServer({ dataDir: join(dir, "clickhouse"), port: 0 });
const warehouse = await startWarehouseServer({ dataDir: warehouseDir, port: 0, ephemeral: true }).catch(
  async (error: unknown) => {
    await clickhouse.close();
    throw error;
  },
);
let mf: Miniflare | undefined;
let failed = true;
try {
  await migrate(createClient({ url: clickhouse.url }), readClickHouseMigrations());
  await migrateWarehouse(warehouse.url, readWarehouseMigrations());
  const errorLogs: string[] = [];
  mf = startWorker(errorLogs);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const ctx: FuzzContext = {
    a: await createTenant(mf, "A"),
    b: await createTenant(mf, "B"),
    scratch: await createTenant(mf, "S"),
    adminToken: ADMIN_TOKEN,
    assets: await fuzzAssets(),
  };

  const tally = new FuzzTally();
  let unsent = 0;
  const knownHits = new Map<string, number>();
  const perRoute = Math.ceil(CASES / ROUTES.length);
  const started = performance.now();
  // Route by route, in the table's order: the scratch property's setup changes and its deletion come last.
  for (const [index, route] of ROUTES.entries()) {
    if (!ONLY.test(route.name)) continue;
    const r = seededRng(SEED + index);
    const cases = Array.from({ length: perRoute }, (_, i) => hostileCase(r, route, ctx, i));
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const i = next++;
          const c = cases[i];
          if (!c) break;
          c.headers["CF-Connecting-IP"] ??= `198.51.100.${i % 250}`;
          const label = `seed ${SEED + index} ${c.label}`;
          let res: Response;
          try {
            res = (await mf?.dispatchFetch(`${base}${c.path}`, {
              method: c.method,
              headers: c.headers,
              body: c.body,
            })) as unknown as Response;
          } catch {
            // The HTTP client itself refused to send it (e.g. an Upgrade it cannot speak): not the Worker's answer.
            unsent++;
            continue;
          }
          const verdict = await judge(route, res);
          const known = knownBug(c, verdict.status);
          if (known) knownHits.set(known.cause, (knownHits.get(known.cause) ?? 0) + 1);
          tally.add(route.name, known ? { status: verdict.status } : verdict, label);
        }
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;

  const stored = await checkStores(mf, ctx);
  printFuzzReport({
    tally,
    seconds,
    unsent,
    stored,
    errorLogs,
    knownHits,
    cases: perRoute * ROUTES.filter((route) => ONLY.test(route.name)).length,
    seed: SEED,
  });
  failed = tally.problems.length > 0 || stored.problems.length > 0;
} finally {
  await mf?.dispose();
  await clickhouse.close();
  await warehouse.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(warehouseDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

function startWorker(errorLogs: string[]): Miniflare {
  const toml = unstable_getMiniflareWorkerOptions("wrangler.toml").workerOptions as V4WorkerOptionsShape;
  return new Miniflare(
    convertV4MiniflareOptions({
      handleStructuredLogs: ({ level, message }) => {
        if (level === "error") errorLogs.push(message);
      },
      workers: [
        {
          name: "tally",
          modules: true,
          scriptPath: bundleWorker("workers/main.ts", join(".bench-data", "fuzz-worker")),
          compatibilityDate: toml.compatibilityDate,
          compatibilityFlags: toml.compatibilityFlags,
          durableObjects: toml.durableObjects,
          r2Buckets: toml.r2Buckets,
          queueProducers: toml.queueProducers,
          queueConsumers: toml.queueConsumers,
          ratelimits: Object.fromEntries(
            Object.entries(toml.ratelimits ?? {}).map(([name, limiter]) => [name, { ...limiter, ...OPEN_LIMIT }]),
          ),
          bindings: {
            ...toml.bindings,
            CLICKHOUSE_URL: clickhouse.url,
            CLICKHOUSE_PASSWORD: "",
            ADMIN_TOKEN,
            WAREHOUSE_URL: warehouse.url,
            UPSTASH_REDIS_REST_URL: "",
            QUERY_LIMIT_PER_HOUR: "1000000000",
            // Actors commit each call at once, as in the workers tests: group commit's 150 ms wait would
            // make the run an hour long and is not what is fuzzed.
            ACTOR_COMMIT_MS: "0",
          },
        },
      ],
    }),
  );
}

async function createTenant(worker: Miniflare, name: string): Promise<Tenant> {
  const res = await worker.dispatchFetch("http://localhost/api/v1/properties", {
    method: "POST",
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: `FZ-BENCH-${name}`, name: `Fuzz ${name}`, domains: [`${name}.fuzz.example`] }),
  });
  if (res.status !== 201) throw new Error(`creating FZ-BENCH-${name} failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as Tenant;
}

async function clickhouseRows(sql: string): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${clickhouse.url}/?query=${encodeURIComponent(`${sql} FORMAT JSONEachRow`)}`);
  const text = await res.text();
  if (!res.ok) throw new Error(`ClickHouse: ${text}`);
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Distinct (property, event) pairs in ClickHouse per property. */
async function clickhouseCounts(): Promise<Map<string, number>> {
  const rows = await clickhouseRows(
    "SELECT property_id, uniqExact(event_id) AS n FROM events GROUP BY property_id ORDER BY property_id",
  );
  return new Map(rows.map((r) => [String(r.property_id), Number(r.n)]));
}

/** Waits until ClickHouse stops changing (the queue has drained), then holds both stores to the rules. */
async function checkStores(worker: Miniflare, ctx: FuzzContext): Promise<StoredCheck> {
  const ours = new Set([ctx.a.property_id, ctx.b.property_id, ctx.scratch.property_id]);
  const compared = [ctx.a.property_id, ctx.b.property_id];
  let last = "";
  for (let stable = 0, waited = 0; stable < 5 && waited < 180; waited++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = JSON.stringify([...(await clickhouseCounts())]);
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  const problems: string[] = [];
  const knownGarbage = new Map<string, number>();
  const inClickHouse = await clickhouseCounts();
  for (const id of inClickHouse.keys()) if (!ours.has(id)) problems.push(`ClickHouse holds events of ${id}`);
  for (const table of ["sessions", "session_log"]) {
    const ids = await clickhouseRows(`SELECT DISTINCT property_id FROM ${table}`);
    for (const { property_id } of ids)
      if (!ours.has(String(property_id))) problems.push(`ClickHouse ${table} holds ${property_id}`);
  }

  const bucket = await worker.getR2Bucket("ARCHIVE_BUCKET");
  const archived = new Map<string, Set<string>>();
  let records = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: "events/", cursor, limit: 1000 });
    for (const object of page.objects) {
      if (object.key.endsWith(MANIFEST_FILE)) continue;
      const body = await bucket.get(object.key);
      if (!body) continue;
      for (const record of await decodeArchiveFile(new Uint8Array(await body.arrayBuffer()), zstdCodec)) {
        records++;
        const valid = ArchiveRecordSchema.safeParse(record);
        if (!valid.success) {
          const issue = valid.error.issues[0];
          const { property_id, event_id, source_protocol } = record;
          problems.push(
            `${object.key}: an invalid record ${JSON.stringify({ property_id, event_id, source_protocol })} (${issue?.path.join(".")}: ${issue?.message})`,
          );
        }
        if (!ours.has(record.property_id)) problems.push(`${object.key}: a record of ${record.property_id}`);
        for (const field of controlCharFields(record)) {
          const known = KNOWN_CONTROL_CHAR_FIELDS.get(field);
          if (known) knownGarbage.set(known, (knownGarbage.get(known) ?? 0) + 1);
          else problems.push(`${object.key}: control characters in ${field} of ${record.event_id}`);
        }
        const ids = archived.get(record.property_id) ?? new Set<string>();
        ids.add(record.event_id);
        archived.set(record.property_id, ids);
      }
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  for (const id of compared) {
    const [a, c] = [archived.get(id)?.size ?? 0, inClickHouse.get(id) ?? 0];
    if (a !== c) problems.push(`${id}: ${a} events archived, ${c} in ClickHouse`);
  }
  const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return { archived: records, clickhouse: sum(inClickHouse), problems, knownGarbage };
}
