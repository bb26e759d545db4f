/**
 * `npm run bench` (freshness, issue #15): on the local dev stack (`scripts/dev.ts`), how long after
 * /collect accepts an event (its 202) a report whose range includes now shows it — through
 * /api/v1/query as the dashboard asks, cache included — and the gap the query cache's SETTLE_MS
 * must cover: the event counted by the PropertyDO (visible in /api/v1/realtime, just before the
 * actor advances the data version) → its row in ClickHouse. Then whether an identical query with no
 * new data is still a cache hit. Figures are printed, never asserted.
 */
import { startDevStack } from "../dev/stack.ts";

/** platform/query-cache.ts's SETTLE_MS (a Workers module, outside the benches' Node types). */
const SETTLE_MS = 2_000;

const SAMPLES = Number(process.env.BENCH_FRESHNESS_SAMPLES ?? 30);
/** Each property's hourly query quota is 1,000: a new property every so many samples. */
const SAMPLES_PER_PROPERTY = 10;
const POLL_MS = 20;
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const TODAY = { metrics: ["visitors", "pageviews"], date_range: "today", timezone: "UTC" };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const at = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * q) - 1)]?.toFixed(0);
const summary = (values: number[]) => `p50 ${at(values, 0.5)} ms, p95 ${at(values, 0.95)} ms, max ${at(values, 1)} ms`;

/** Polls `seen` until it holds; resolves to when (performance.now()) it first did. */
async function until(seen: () => Promise<boolean>): Promise<number> {
  const deadline = performance.now() + 30_000;
  while (performance.now() < deadline) {
    if (await seen()) return performance.now();
    await sleep(POLL_MS);
  }
  throw new Error("not visible within 30 s");
}

const stack = await startDevStack();
try {
  const base = `http://127.0.0.1:${stack.port}`;
  let property = { id: "", key: "" };
  const newProperty = async (n: number) => {
    const res = await fetch(`${base}/api/v1/properties`, {
      method: "POST",
      headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        property_id: `FRESH-${Date.now().toString(36)}-${n}`,
        name: "freshness bench",
        domains: ["example.com"],
      }),
    });
    const body = (await res.json()) as { property_id: string; api_key: string };
    property = { id: body.property_id, key: body.api_key };
  };
  const query = async (): Promise<{ pageviews: number; cached: boolean }> => {
    const res = await fetch(`${base}/api/v1/query`, {
      method: "POST",
      headers: { Authorization: `Bearer ${property.key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ property_id: property.id, ...TODAY }),
    });
    const body = (await res.json()) as { results: { metrics: number[] }[]; meta: { cached: boolean } };
    return { pageviews: body.results[0]?.metrics[1] ?? 0, cached: body.meta.cached };
  };
  const livePageviews = async () => {
    const res = await fetch(`${base}/api/v1/realtime?property=${property.id}`, {
      headers: { Authorization: `Bearer ${property.key}` },
    });
    return ((await res.json()) as { pageviews_last_30m: number }).pageviews_last_30m;
  };
  const rows = async (clientId: string) => {
    const sql = `SELECT count() FROM events WHERE property_id = '${property.id}' AND client_id = '${clientId}'`;
    return Number((await stack.clickhouseText(sql)).trim());
  };

  const visible: number[] = [];
  const counted: number[] = [];
  const inserted: number[] = [];
  const gaps: number[] = [];
  let hits = 0;
  for (let i = 0; i < SAMPLES; i++) {
    if (i % SAMPLES_PER_PROPERTY === 0) await newProperty(i);
    const before = await query();
    const clientId = `fresh-${i}`;
    const res = await fetch(`${base}/collect`, {
      method: "POST",
      headers: { "User-Agent": UA },
      body: JSON.stringify({
        property_id: property.id,
        client_id: clientId,
        event_type: "pageview",
        page_url: "https://example.com/f",
      }),
    });
    if (res.status !== 202) throw new Error(`/collect answered ${res.status}: ${await res.text()}`);
    const accepted = performance.now();
    const [shown, live, stored] = await Promise.all([
      until(async () => (await query()).pageviews > before.pageviews),
      until(async () => (await livePageviews()) > before.pageviews),
      until(async () => (await rows(clientId)) > 0),
    ]);
    visible.push(shown - accepted);
    counted.push(live - accepted);
    inserted.push(stored - accepted);
    gaps.push(Math.max(0, stored - live));
    // No new data: once the version has settled, the same question is answered, then served from the cache.
    await sleep(SETTLE_MS + 200);
    await query();
    if ((await query()).cached) hits++;
  }
  console.log(
    `\nEvent accepted (202) → visible in /api/v1/query (date_range today, cache on), dev stack, ${SAMPLES} samples: ${summary(visible)} (target p95 ≤ 5,000)`,
  );
  console.log(
    `  of which accepted → counted by the PropertyDO: ${summary(counted)}; → row in ClickHouse: ${summary(inserted)}`,
  );
  console.log(
    `Counted by the PropertyDO (/api/v1/realtime) → row in ClickHouse, the gap SETTLE_MS (${SETTLE_MS} ms) covers: ${summary(gaps)} (polled every ${POLL_MS} ms)`,
  );
  console.log(`An identical query with no new data, after the version settled: cached ${hits}/${SAMPLES}`);
} finally {
  await stack.stop();
}
