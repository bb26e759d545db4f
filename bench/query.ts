/**
 * `npm run bench` (query): query latency on 10M generated events over 30 days, through the API and
 * as the same SQL run directly, in one run.
 *
 * The embedded ClickHouse (scripts/clickhouse-server.ts, chDB) runs in its own process over a
 * dataset made by bench/generate-events.ts, kept under `.bench-data/` and keyed by the generator's
 * parameters, its source (generate-events.ts, generate-model.ts, generate-sql.ts) and the
 * migrations, so later runs skip generation (bench/query-dataset.ts). The Worker is bundled by
 * wrangler and run in one workerd through Miniflare's API (as bench/ingest.ts does), pointed at that
 * ClickHouse; the targets are in bench/query-targets.ts. For each target — the overview and pages
 * reports (rollups), and issue #20's raw-table shapes: three filters by day, two filters by page, a
 * custom-property breakdown, funnels of 3 and 8 steps, retention over 8 weeks, goal conversions —
 * it alternates A B A B: the API over HTTP, then the SQL the core builders make for it
 * (normaliseQuery → planQuery → buildQuerySql / buildFunnelSql / buildRetentionSql) sent straight
 * to ClickHouse with the Worker's own client and settings; a target's statements concurrently, as
 * the Worker sends them (bench/query-measure.ts). Figures are printed, never asserted
 * (bench/query-print.ts).
 *
 * The query cache is off: Miniflare's `cacheAPI: false` gives the Worker a Cache API that never
 * hits (and no Upstash URL is set), so every request takes the miss path production takes for a new
 * question — cache lookup included — with the very same query each time.
 *
 * BENCH_QUERY_EVENTS (10M), BENCH_QUERY_ITERATIONS (40), BENCH_QUERY_FRESH=1 (regenerate) tune it.
 */
import { join } from "node:path";
import { createClient } from "@clickhouse/client-web";
import type { Miniflare } from "miniflare";
import { DAY_MS } from "../core/time.ts";
import { tableSizes } from "./generate-events.ts";
import { DAYS, loadDataset, openDataset, startClickHouse } from "./query-dataset.ts";
import { createGoals, createProperty, measure, startWorker } from "./query-measure.ts";
import { printReport } from "./query-print.ts";
import { dateOf, GOALS, targets } from "./query-targets.ts";

const { dir, cached } = openDataset();
const clickhouse = await startClickHouse(join(dir, "clickhouse"));
let mf: Miniflare | undefined;
const client = createClient({ url: clickhouse.url, ...clickhouse.auth, request_timeout: 1_800_000 });
// As platform/clickhouse.ts makes the Worker's query client.
const direct = createClient({
  url: clickhouse.url,
  username: clickhouse.credentials.queryUser,
  password: clickhouse.credentials.queryPassword,
  keep_alive: { enabled: false },
  request_timeout: 30_000,
});
try {
  const dataset = await loadDataset(client, dir, cached);
  const sizes = await tableSizes(client);
  const start = dateOf(dataset.end - DAYS * DAY_MS);
  const end = dateOf(dataset.end - DAY_MS);

  mf = startWorker(clickhouse);
  const base = (await mf.ready).toString().replace(/\/$/, "");
  const apiKey = await createProperty(base);
  await createGoals(base, apiKey, GOALS);
  const now = Date.now();
  const list = targets(apiKey, start, end, now);
  const measured = await measure(base, direct, list);
  printReport({ generated: dataset.generated, sizes, start, end, list, measured });
} finally {
  await mf?.dispose();
  await client.close();
  await direct.close();
  const exited = new Promise((r) => clickhouse.child.once("exit", r));
  clickhouse.child.kill("SIGTERM");
  await exited;
}
