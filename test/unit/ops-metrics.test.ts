/**
 * The ops metrics' pure parts: the accumulator's bounds and folding, histogram quantiles against
 * exact ones, the report's aggregation across isolates, and Prometheus text a parser reads back.
 */
import { describe, expect, it } from "vitest";
import {
  BUCKET_COUNT,
  bucketIndex,
  bucketUpperMs,
  MAX_PENDING_MINUTES,
  MAX_RETRY_ROWS,
  MAX_SERIES_PER_MINUTE,
  MetricsAccumulator,
  MINUTE_MS,
  type OpsMetricRow,
  OpsMetricRowSchema,
  retainForRetry,
} from "../../core/ops/metrics.ts";
import {
  buildReport,
  type MinuteRow,
  OpsMetricsReportSchema,
  quantileMs,
  reportWindow,
} from "../../core/ops/metrics-report.ts";
import { escapeLabelValue, renderPrometheus } from "../../core/ops/prometheus.ts";

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

/** Rows as the report statement returns them (one isolate: each row is its own minute's sum). */
function asMinuteRows(rows: readonly OpsMetricRow[]): MinuteRow[] {
  return rows.map((r) => ({
    name: r.name,
    labels: r.labels,
    kind: r.kind,
    minute_s: Date.parse(`${r.minute.replace(" ", "T")}Z`) / 1000,
    total: r.value,
    max: r.value,
    last: r.value,
    last_at: Date.parse(`${r.recorded_at.replace(" ", "T")}Z`),
    count: r.count,
    sum: r.sum,
    buckets: r.buckets,
  }));
}

/** A seeded generator, so the quantile test is the same every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("the accumulator", () => {
  it("sums counters per name, labels and minute, whatever the label order", () => {
    const acc = new MetricsAccumulator();
    acc.count("events_accepted", { route: "tally" }, 3, T0);
    acc.count("events_accepted", { route: "tally" }, 2, T0 + 10_000);
    acc.count("events_accepted", { route: "ga4" }, 1, T0);
    acc.count("events_accepted", { route: "tally" }, 4, T0 + MINUTE_MS);
    const rows = acc.drain();
    for (const r of rows) OpsMetricRowSchema.parse(r);
    const summary = rows.map((r) => [r.minute, r.labels, r.value]).sort();
    expect(summary).toEqual(
      [
        ["2026-12-02 12:00:00", '{"route":"ga4"}', 1],
        ["2026-12-02 12:00:00", '{"route":"tally"}', 5],
        ["2026-12-02 12:01:00", '{"route":"tally"}', 4],
      ].sort(),
    );
    expect(acc.pending()).toBe(false);
    expect(acc.drain()).toEqual([]);
  });

  it("folds new label sets into {other:true} once a minute holds its cap of series", () => {
    const acc = new MetricsAccumulator();
    for (let i = 0; i < MAX_SERIES_PER_MINUTE + 200; i++) acc.count("events_by_location", { colo: `C${i}` }, 1, T0);
    acc.count("events_by_location", { colo: "C0" }, 1, T0);
    const rows = acc.drain();
    expect(rows).toHaveLength(MAX_SERIES_PER_MINUTE + 1);
    expect(rows.find((r) => r.labels === '{"other":"true"}')?.value).toBe(200);
    expect(rows.find((r) => r.labels === '{"colo":"C0"}')?.value).toBe(2);
    expect(rows.reduce((a, r) => a + r.value, 0)).toBe(MAX_SERIES_PER_MINUTE + 201);
  });

  it("clips long label values and sorts label keys", () => {
    const acc = new MetricsAccumulator();
    acc.count("events_refused", { reason: "x".repeat(500), a: "1" }, 1, T0);
    const [row] = acc.drain();
    expect(row?.labels).toBe(JSON.stringify({ a: "1", reason: "x".repeat(64) }));
  });

  it("keeps at most MAX_PENDING_MINUTES unflushed minutes, counting what it dropped", () => {
    const acc = new MetricsAccumulator();
    for (let m = 0; m < MAX_PENDING_MINUTES + 3; m++)
      acc.count("consumer_messages", { queue: "events" }, 1, T0 + m * MINUTE_MS);
    const rows = acc.drain();
    expect(rows).toHaveLength(MAX_PENDING_MINUTES);
    expect(rows.map((r) => r.minute).sort()[0]).toBe("2026-12-02 12:03:00");
    expect(acc.dropped).toBe(3);
  });

  it("keeps a failed flush's rows of the last minutes, the newest MAX_RETRY_ROWS of them", () => {
    const acc = new MetricsAccumulator();
    acc.count("events_accepted", { route: "tally" }, 2, T0);
    acc.observe("query_ms", 10, { route: "query" }, T0 + MINUTE_MS);
    acc.gauge("live_viewers", 3, { bucket: "1", source: "a" }, T0 + MINUTE_MS);
    const failed = acc.drain();
    expect(retainForRetry(failed, T0 + 2 * MINUTE_MS)).toEqual({ kept: failed, dropped: 0 });
    const later = retainForRetry(failed, T0 + MAX_PENDING_MINUTES * MINUTE_MS);
    expect(later.kept.map((r) => r.name).sort()).toEqual(["live_viewers", "query_ms"]);
    expect(later.dropped).toBe(1);
    const many = Array.from({ length: MAX_RETRY_ROWS + 10 }, (_, i) => ({
      ...(failed[0] as OpsMetricRow),
      minute: i < 10 ? "2026-12-02 12:00:00" : "2026-12-02 12:01:00",
    }));
    const capped = retainForRetry(many, T0 + MINUTE_MS);
    expect(capped.kept).toHaveLength(MAX_RETRY_ROWS);
    expect(capped.kept.every((r) => r.minute === "2026-12-02 12:01:00")).toBe(true);
    expect(capped.dropped).toBe(10);
  });

  it("ignores what is not a count or a duration, and never throws on odd input", () => {
    const acc = new MetricsAccumulator();
    acc.count("events_accepted", {}, Number.NaN, T0);
    acc.count("events_accepted", {}, -1, T0);
    acc.observe("query_ms", Number.POSITIVE_INFINITY, {}, T0);
    acc.gauge("live_viewers", Number.NaN, {}, T0);
    expect(acc.drain()).toEqual([]);
    acc.observe("query_ms", -5, {}, T0);
    expect(acc.drain()[0]?.buckets[0]).toBe(1);
  });

  it("sends a gauge only when it was set since the last drain", () => {
    const acc = new MetricsAccumulator();
    acc.gauge("live_viewers", 2, { source: "p1" }, T0);
    expect(acc.drain()).toHaveLength(1);
    expect(acc.pending()).toBe(false);
    acc.gauge("live_viewers", 0, { source: "p1" }, T0 + 5_000);
    expect(acc.drain().map((r) => r.value)).toEqual([0]);
  });
});

describe("histogram buckets and quantiles", () => {
  it("puts each duration in the first bucket whose bound holds it", () => {
    expect(bucketIndex(0)).toBe(0);
    expect(bucketIndex(1)).toBe(0);
    expect(bucketIndex(2)).toBe(4);
    expect(bucketIndex(2.0001)).toBe(5);
    expect(bucketIndex(60_000)).toBeLessThan(BUCKET_COUNT - 1);
    expect(bucketIndex(1e9)).toBe(BUCKET_COUNT - 1);
    for (let i = 1; i < BUCKET_COUNT - 1; i++) {
      expect(bucketIndex(bucketUpperMs(i))).toBe(i);
      expect(bucketIndex(bucketUpperMs(i) * 1.0001)).toBe(i + 1);
    }
  });

  it("estimates p50, p95 and p99 within one bucket's width of the exact values", () => {
    const next = random(18);
    for (const shape of ["uniform", "lognormal", "bimodal"] as const) {
      const acc = new MetricsAccumulator();
      const values: number[] = [];
      for (let i = 0; i < 5_000; i++) {
        const u = next();
        const v =
          shape === "uniform"
            ? u * 2_000
            : shape === "lognormal"
              ? Math.exp(3 + 1.5 * Math.sqrt(-2 * Math.log(u + 1e-12)) * Math.cos(2 * Math.PI * next()))
              : u < 0.9
                ? 5 + next() * 5
                : 800 + next() * 400;
        values.push(v);
        acc.observe("query_ms", v, {}, T0);
      }
      const [row] = acc.drain();
      values.sort((a, b) => a - b);
      for (const q of [0.5, 0.95, 0.99]) {
        const exact = values[Math.ceil(q * values.length) - 1] ?? 0;
        const estimate = quantileMs(row?.buckets ?? [], q, row?.value ?? 0);
        const width = Math.max(1, exact * (2 ** (1 / 4) - 1));
        expect(Math.abs(estimate - exact), `${shape} p${q * 100}`).toBeLessThanOrEqual(width);
      }
    }
  });
});

describe("the report", () => {
  it("sums isolates' rows, merges histograms and sums gauges over their sources", () => {
    const a = new MetricsAccumulator();
    const b = new MetricsAccumulator();
    a.count("events_accepted", { route: "tally" }, 3, T0);
    b.count("events_accepted", { route: "tally" }, 4, T0 + 5_000);
    b.count("events_accepted", { route: "tally" }, 1, T0 + MINUTE_MS);
    for (let i = 1; i <= 100; i++) (i % 2 ? a : b).observe("query_ms", i, { route: "query" }, T0);
    a.gauge("live_viewers", 2, { bucket: "1", source: "p1" }, T0);
    a.gauge("live_viewers", 5, { bucket: "1", source: "p1" }, T0 + 30_000);
    b.gauge("live_viewers", 1, { bucket: "1", source: "p2" }, T0);
    const rows = [...asMinuteRows(a.drain()), ...asMinuteRows(b.drain())];
    // What the statement does: one row per series and minute.
    const merged = new Map<string, MinuteRow>();
    for (const r of rows) {
      const key = `${r.name}|${r.labels}|${r.minute_s}`;
      const m = merged.get(key);
      if (!m) merged.set(key, { ...r });
      else {
        m.total += r.total;
        m.max = Math.max(m.max, r.max);
        m.count += r.count;
        m.sum += r.sum;
        m.buckets = m.buckets.map((n, i) => n + (r.buckets[i] ?? 0));
      }
    }
    const window = { ...reportWindow(60, T0 + 2 * MINUTE_MS), minutes: 60, now: T0 + 2 * MINUTE_MS };
    const report = buildReport([...merged.values()], window);
    expect(OpsMetricsReportSchema.parse(report)).toEqual(report);
    expect(report.counters).toEqual([
      {
        name: "events_accepted",
        help: expect.stringContaining("accepted"),
        labels: { route: "tally" },
        total: 8,
        per_minute: [
          { minute: "2026-12-02T12:00:00.000Z", value: 7 },
          { minute: "2026-12-02T12:01:00.000Z", value: 1 },
        ],
      },
    ]);
    const [timing] = report.timings;
    expect(timing).toMatchObject({ name: "query_ms", labels: { route: "query" }, count: 100, max: 100, sum: 5050 });
    expect(Math.abs((timing?.p50 ?? 0) - 50)).toBeLessThanOrEqual(50 * 0.19);
    expect(Math.abs((timing?.p99 ?? 0) - 99)).toBeLessThanOrEqual(99 * 0.19);
    expect(report.gauges).toEqual([
      { name: "live_viewers", help: expect.any(String), labels: { bucket: "1" }, value: 6 },
    ]);
    expect(report).toMatchObject({ from: "2026-12-02T11:03:00.000Z", to: "2026-12-02T12:03:00.000Z", minutes: 60 });
  });
});

/** A strict reader of the text format: every line a HELP, a TYPE or a sample; samples' labels unescaped. */
function parsePrometheus(text: string) {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped)$/.exec(line);
    if (help) continue;
    if (type) {
      types.set(type[1] ?? "", type[2] ?? "");
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(sample, line).not.toBeNull();
    const labels: Record<string, string> = {};
    const body = sample?.[2] ?? "";
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    for (let m = pair.exec(body); m; m = pair.exec(body)) {
      labels[m[1] ?? ""] = (m[2] ?? "").replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c));
      if (pair.lastIndex === body.length) break;
    }
    if (body !== "") expect(pair.lastIndex, `labels of ${line}`).toBe(body.length);
    const value = Number(sample?.[3]);
    expect(Number.isNaN(value)).toBe(false);
    const family = [...types.keys()].find((t) => sample?.[1] === t || sample?.[1]?.startsWith(`${t}_`));
    expect(family, `${line} has a TYPE before it`).toBeDefined();
    samples.push({ name: sample?.[1] ?? "", labels, value });
  }
  return { samples, types };
}

describe("Prometheus text", () => {
  it("renders counters, summaries and gauges a strict parser reads back, label values escaped", () => {
    const acc = new MetricsAccumulator();
    const nasty = 'a "quoted" \\ back\nslash';
    acc.count("events_refused", { reason: nasty }, 2, T0);
    acc.count("events_refused", { reason: "invalid_event" }, 1, T0);
    for (const ms of [5, 10, 20]) acc.observe("query_ms", ms, { route: "query" }, T0);
    acc.gauge("live_viewers", 4, { bucket: "2", source: "p" }, T0);
    const window = { ...reportWindow(15, T0), minutes: 15, now: T0 };
    const text = renderPrometheus(buildReport(asMinuteRows(acc.drain()), window));
    const { samples, types } = parsePrometheus(text);
    expect(types.get("tally_events_refused")).toBe("gauge");
    expect(types.get("tally_query_ms")).toBe("summary");
    expect(types.get("tally_live_viewers")).toBe("gauge");
    expect(samples).toContainEqual({ name: "tally_events_refused", labels: { reason: nasty }, value: 2 });
    expect(samples).toContainEqual({ name: "tally_query_ms_count", labels: { route: "query" }, value: 3 });
    expect(samples).toContainEqual({ name: "tally_query_ms_sum", labels: { route: "query" }, value: 35 });
    expect(samples.filter((s) => s.name === "tally_query_ms").map((s) => s.labels.quantile)).toEqual([
      "0.5",
      "0.95",
      "0.99",
    ]);
    expect(samples).toContainEqual({ name: "tally_live_viewers", labels: { bucket: "2" }, value: 4 });
    expect(text.match(/^# TYPE tally_events_refused /gm)).toHaveLength(1);
    expect(escapeLabelValue('\\"\n')).toBe('\\\\\\"\\n');
  });
});
