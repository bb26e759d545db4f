/**
 * GET /api/v1/ops/metrics in workerd against the real ClickHouse: /collect events (one invalid,
 * some rate-limited), a consumer batch and a query are counted, and the route answers them as JSON
 * and as Prometheus text, to the admin only. The test database is shared with other files running
 * at the same time, so counts another file could add to are compared as "at least" what this file
 * did; the location counter carries a Cloudflare location made up for this run, so it is exact.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { ARCHIVE_CRON } from "../../consumers/schedule.ts";
import { type CounterSeries, type OpsMetricsReport, OpsMetricsReportSchema } from "../../core/ops/metrics-report.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { VIEWER_BUCKETS } from "../../durable-objects/live-sockets.ts";
import { renderError } from "../../workers/errors.ts";
import worker from "../../workers/main.ts";
import { opsMetricsRoutes } from "../../workers/ops/metrics.ts";
import { ADMIN, type CreatedProperty, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const run = crypto.randomUUID().slice(0, 6).toUpperCase();
/** The live_viewers bucket of a property, as durable-objects/live-sockets.ts hashes it (FNV-1a). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
const COLO = `T${run}`;
const PROPERTY = `OPS-${run}`;

function metrics(query = "", headers: Record<string, string> = ADMIN): Promise<Response> {
  return call(`/api/v1/ops/metrics${query}`, { headers });
}

async function report(): Promise<OpsMetricsReport> {
  const res = await metrics("?minutes=30");
  expect(res.status).toBe(200);
  // The answer is exactly the documented schema (nothing missing, nothing extra).
  const body = await res.json<OpsMetricsReport>();
  expect(OpsMetricsReportSchema.strict().parse(body)).toEqual(body);
  return body;
}

const total = (r: OpsMetricsReport, name: string, labels: Record<string, string>) =>
  r.counters
    .filter((c: CounterSeries) => c.name === name && Object.entries(labels).every(([k, v]) => c.labels[k] === v))
    .reduce((n, c) => n + c.total, 0);
const timingCount = (r: OpsMetricsReport, name: string, labels: Record<string, string>) =>
  r.timings
    .filter((t) => t.name === name && Object.entries(labels).every(([k, v]) => t.labels[k] === v))
    .reduce((n, t) => n + t.count, 0);

const event = (extra: Record<string, unknown> = {}) => ({
  property_id: PROPERTY,
  client_id: "c1",
  event_type: "pageview",
  page_url: "https://example.com/",
  ...extra,
});

function collect(body: unknown, ip: string): Promise<Response> {
  return call("/collect", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "User-Agent": CHROME, "CF-Connecting-IP": ip },
    cf: { colo: COLO, country: "NZ" },
  });
}

let property: CreatedProperty;
let before: OpsMetricsReport;
let accepted = 0;
let limited = 0;

beforeAll(async () => {
  property = await createProperty({ property_id: PROPERTY, domains: ["example.com"] });
  before = await report();
  expect((await collect([event(), event(), event()], "198.51.100.7")).status).toBe(202);
  accepted += 3;
  // Invalid: event_type missing; refused as a whole.
  expect((await collect({ property_id: PROPERTY, page_url: "https://example.com/" }, "198.51.100.7")).status).toBe(400);
  // One address past its budget (scaled down in tests): batches of 20 until the 429.
  const batch = Array.from({ length: 20 }, () => event());
  for (let i = 0; i < 30 && limited === 0; i++) {
    const res = await collect(batch, `198.51.100.${100 + (Number.parseInt(run, 36) % 100)}`);
    if (res.status === 429) limited = 20;
    else {
      expect(res.status).toBe(202);
      accepted += 20;
    }
  }
  expect(limited).toBe(20);
  const q = await call("/api/v1/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${property.api_key}` },
    body: JSON.stringify({ property_id: PROPERTY, metrics: ["pageviews"], date_range: "today" }),
  });
  expect(q.status).toBe(200);
  const consumed = await consumeMessage(`ops-${run}`, [
    makeEvent({ property_id: PROPERTY, event_id: `ops-${run}`, event_timestamp: Date.now() - 1_000 }),
  ]);
  expect(consumed.explicitAcks).toEqual([`ops-${run}`]);
});

describe("GET /api/v1/ops/metrics", () => {
  it("counts what the edge, the consumer and the query API just did", async () => {
    const after = await report();
    expect(total(after, "events_by_location", { colo: COLO, country: "NZ" })).toBe(accepted);
    expect(total(after, "events_by_location", { colo: COLO })).toBe(accepted);
    const delta = (name: string, labels: Record<string, string>) =>
      total(after, name, labels) - total(before, name, labels);
    expect(delta("events_accepted", { route: "tally" })).toBeGreaterThanOrEqual(accepted);
    expect(delta("events_refused", { reason: "invalid_event" })).toBeGreaterThanOrEqual(1);
    expect(delta("events_rate_limited", { scope: "ip" })).toBeGreaterThanOrEqual(limited);
    expect(delta("consumer_messages", { queue: "events" })).toBeGreaterThanOrEqual(1);
    expect(delta("cache_lookups", { layer: "property", result: "hit" })).toBeGreaterThanOrEqual(1);
    const timed = (name: string, labels: Record<string, string>) =>
      timingCount(after, name, labels) - timingCount(before, name, labels);
    expect(timed("query_ms", { route: "query" })).toBeGreaterThanOrEqual(1);
    expect(timed("queue_lag_ms", { queue: "events" })).toBeGreaterThanOrEqual(1);
    expect(timed("processing_lag_ms", {})).toBeGreaterThanOrEqual(1);
    expect(timed("archive_write_ms", {})).toBeGreaterThanOrEqual(1);
    const query = after.timings.find((t) => t.name === "query_ms" && t.labels.route === "query");
    expect(query?.p50).toBeGreaterThanOrEqual(0);
    expect(query?.help).toContain("query API latency");
    expect(query?.per_minute.length).toBeGreaterThanOrEqual(1);
    expect(after).toMatchObject({ minutes: 30 });
    expect(Date.parse(after.to) - Date.parse(after.from)).toBe(30 * 60_000);
  });

  it("sums the live viewers every PropertyDO reports", async () => {
    const sockets = await Promise.all(
      [1, 2].map(async () => {
        const res = await call(`/ws/realtime?property=${PROPERTY}`, {
          headers: { Upgrade: "websocket", Authorization: `Bearer ${property.api_key}` },
        });
        expect(res.status).toBe(101);
        res.webSocket?.accept();
        return res.webSocket;
      }),
    );
    const viewers = (await report()).gauges.filter((g) => g.name === "live_viewers");
    expect(viewers.reduce((n, g) => n + g.value, 0)).toBeGreaterThanOrEqual(2);
    expect(viewers.every((g) => g.labels.source === undefined && /^\d+$/.test(g.labels.bucket ?? ""))).toBe(true);
    // One leaves: its actor lowers its own reading (other files' actors may share the bucket, never lower it).
    const bucket = String(fnv1a(PROPERTY) % VIEWER_BUCKETS);
    const inBucket = (r: OpsMetricsReport) =>
      r.gauges.filter((g) => g.name === "live_viewers" && g.labels.bucket === bucket).reduce((n, g) => n + g.value, 0);
    const before = inBucket(await report());
    sockets[0]?.close(1000, "bye");
    await vi.waitFor(async () => expect(inBucket(await report())).toBe(before - 1), { timeout: 10_000, interval: 200 });
    sockets[1]?.close();
  }, 30_000);

  it("answers Prometheus text with Accept: text/plain", async () => {
    const res = await metrics("?minutes=30", { ...ADMIN, Accept: "text/plain" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain("# TYPE tally_events_by_location gauge\n");
    expect(text).toContain(`tally_events_by_location{colo="${COLO}",country="NZ"} ${accepted}\n`);
    expect(text).toMatch(/^tally_query_ms\{route="query",quantile="0\.95"\} [0-9.]+$/m);
    const open = await metrics("?minutes=30", { ...ADMIN, Accept: "application/openmetrics-text; version=1.0.0" });
    expect(open.headers.get("content-type")).toContain("text/plain; version=0.0.4");
  });

  it("counts the cron's jobs by result, with their durations (job health); one failing does not stop the rest", async () => {
    const before = await report();
    const ctx = createExecutionContext();
    // ClickHouse unreachable: the TTL job fails; compaction (the archive only) still runs and succeeds.
    const down = { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9" } as Env;
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: ARCHIVE_CRON }), down, ctx);
    await waitOnExecutionContext(ctx);
    const after = await report();
    const runs = (r: OpsMetricsReport, job: string, result: string) => total(r, "job_runs", { job, result });
    expect(runs(after, "archive_compaction", "ok")).toBeGreaterThan(runs(before, "archive_compaction", "ok"));
    expect(runs(after, "clickhouse_ttls", "failed")).toBeGreaterThan(runs(before, "clickhouse_ttls", "failed"));
    expect(runs(after, "archive_retention", "ok")).toBeGreaterThan(runs(before, "archive_retention", "ok"));
    expect(timingCount(after, "job_ms", { job: "clickhouse_ttls" })).toBeGreaterThan(
      timingCount(before, "job_ms", { job: "clickhouse_ttls" }),
    );
  }, 60_000);

  it("refuses without the admin token, and a property's key is not enough", async () => {
    const none = await metrics("", {});
    expect(none.status).toBe(401);
    expect((await envelope(none)).error.code).toBe("unauthorized");
    expect((await metrics("", { Authorization: `Bearer ${property.api_key}` })).status).toBe(401);
  });

  it("answers 400 naming minutes when it is not a whole number from 1 to 1440", async () => {
    for (const bad of ["0", "1441", "abc", "1.5"]) {
      const res = await metrics(`?minutes=${bad}`);
      expect(res.status, bad).toBe(400);
      expect((await envelope(res)).error.message).toContain("minutes: must be a whole number from 1 to 1440");
    }
  });

  it("answers 503 clickhouse_unavailable when ClickHouse cannot be reached", async () => {
    // The route module alone, with the app's error renderer, over an env whose ClickHouse is gone.
    const ops = new Hono<{ Bindings: Env }>().route("/", opsMetricsRoutes);
    ops.onError(renderError);
    const down = { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9" } as Env;
    const res = await ops.request("/api/v1/ops/metrics", { headers: ADMIN }, down, createExecutionContext());
    expect(res.status).toBe(503);
    expect((await envelope(res)).error.code).toBe("clickhouse_unavailable");
  });
});
