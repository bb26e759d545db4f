/**
 * `ops_metrics` against the real engine: migration 0009's columns are the ones the recorder
 * inserts (core/ops/metrics.ts OPS_METRIC_COLUMNS), the recorder's flush lands there and the
 * report's statement reads it back summed; a flush that fails keeps its rows for the next one.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { OPS_METRIC_COLUMNS } from "../../core/ops/metrics.ts";
import { buildReport, reportWindow } from "../../core/ops/metrics-report.ts";
import { countMetric, flushOpsMetrics, observeMetric, readOpsMetrics, setGauge } from "../../platform/ops-metrics.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

let client: ClickHouseClient;
/** The variables the recorder reads (a Worker passes its whole Env). */
let env: { CLICKHOUSE_URL: string; CLICKHOUSE_DATABASE: string; OPS_FLUSH_SECONDS: string };
let database: string;

beforeAll(async () => {
  let url: string;
  ({ client, database, url } = await freshDatabase("ops"));
  env = { CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database, OPS_FLUSH_SECONDS: "60" };
});

describe("ops_metrics", () => {
  it("has exactly the columns, in the order, that the recorder inserts", async () => {
    const columns = await rows<{ name: string; type: string }>(
      client,
      "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = 'ops_metrics' ORDER BY position",
      { db: database },
    );
    expect(Object.fromEntries(columns.map((c) => [c.name, c.type]))).toEqual(OPS_METRIC_COLUMNS);
    expect(columns.map((c) => c.name)).toEqual(Object.keys(OPS_METRIC_COLUMNS));
  });

  it("stores what the recorder flushes and reads it back summed, as the route answers", async () => {
    const marker = `it-${crypto.randomUUID().slice(0, 8)}`;
    countMetric("events_accepted", { route: marker }, 3);
    countMetric("events_accepted", { route: marker }, 2);
    for (const ms of [4, 8, 16, 32]) observeMetric("query_ms", ms, { route: marker });
    setGauge("live_viewers", 7, { bucket: marker, source: "a" });
    setGauge("live_viewers", 2, { bucket: marker, source: "b" });
    await flushOpsMetrics(env, Date.now(), { force: true });

    const stored = await rows<{ kind: string; n: string }>(
      client,
      "SELECT kind, toString(count()) AS n FROM ops_metrics WHERE labels LIKE {m:String} GROUP BY kind ORDER BY kind",
      { m: `%${marker}%` },
    );
    expect(stored).toEqual([
      { kind: "counter", n: "1" },
      { kind: "gauge", n: "2" },
      { kind: "timing", n: "1" },
    ]);
    const now = Date.now();
    const window = reportWindow(5, now);
    const report = buildReport(await readOpsMetrics(env, window.from, window.to), { ...window, minutes: 5, now });
    expect(report.counters.find((c) => c.labels.route === marker)?.total).toBe(5);
    expect(report.timings.find((t) => t.labels.route === marker)).toMatchObject({ count: 4, sum: 60, max: 32 });
    expect(report.gauges.find((g) => g.labels.bucket === marker)?.value).toBe(9);
  });

  it("keeps a failed flush's rows and writes them with the next one, warning once; Analytics Engine sees each once", async () => {
    const marker = `down-${crypto.randomUUID().slice(0, 8)}`;
    const points: { blobs?: string[]; doubles?: number[] }[] = [];
    const OPS_ANALYTICS = { writeDataPoint: (p: { blobs?: string[]; doubles?: number[] }) => points.push(p) };
    const down = { ...env, CLICKHOUSE_URL: "http://127.0.0.1:9", OPS_ANALYTICS };
    const up = { ...env, OPS_ANALYTICS };
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    countMetric("events_refused", { reason: marker }, 4);
    await flushOpsMetrics(down, Date.now(), { force: true });
    countMetric("events_refused", { reason: marker }, 1);
    await flushOpsMetrics(down, Date.now(), { force: true });
    expect(warn.mock.calls.filter(([line]) => String(line).includes("ops metrics flush failed"))).toHaveLength(1);
    warn.mockRestore();
    await flushOpsMetrics(up, Date.now(), { force: true });
    const ours = points.filter((p) => p.blobs?.[2] === JSON.stringify({ reason: marker }));
    expect(ours.map((p) => p.doubles?.[0])).toEqual([4, 1]);
    const [row] = await rows<{ total: number }>(
      client,
      "SELECT sum(value) AS total FROM ops_metrics WHERE name = 'events_refused' AND labels = {l:String}",
      { l: JSON.stringify({ reason: marker }) },
    );
    expect(row?.total).toBe(5);
  });
});
