/**
 * `GET /api/v1/ops/metrics`, pure: its parameters, the one statement that reads `ops_metrics`
 * (rows summed per series and minute across isolates), and the answer built from those rows —
 * counters' totals, timings' quantiles from the merged histograms, gauges summed over their sources.
 */
import { z } from "zod";
import { COUNTERS, GAUGES, type Labels, TIMINGS } from "./metric-names.ts";
import { BUCKET_COUNT, bucketUpperMs, MINUTE_MS } from "./metrics.ts";

export const MAX_MINUTES = 1_440;
/** Rows the statement may return: minutes × series, far above a healthy catalog's. */
export const MAX_REPORT_ROWS = 200_000;

export const OpsMetricsParamsSchema = z.object({
  minutes: z.coerce.number().int().min(1).max(MAX_MINUTES).default(60),
});

/** A series' minute as the statement returns it. */
export interface MinuteRow {
  name: string;
  labels: string;
  kind: string;
  minute_s: number;
  total: number;
  max: number;
  last: number;
  last_at: number;
  count: number;
  sum: number;
  buckets: number[];
}

/** The window a report covers: whole minutes, the current one included. */
export function reportWindow(minutes: number, now: number): { from: number; to: number } {
  const to = (Math.floor(now / MINUTE_MS) + 1) * MINUTE_MS;
  return { from: to - minutes * MINUTE_MS, to };
}

/** The statement over [from, to): values only as parameters. */
export function opsMetricsStatement(from: number, to: number): { sql: string; params: Record<string, number> } {
  return {
    sql: `SELECT name, labels, kind, toUnixTimestamp(minute) AS minute_s,
  sum(value) AS total, max(value) AS max, argMax(value, recorded_at) AS last,
  toUnixTimestamp64Milli(max(recorded_at)) AS last_at,
  sum(count) AS count_sum, sum(sum) AS sum_sum, sumForEach(buckets) AS buckets_sum
FROM ops_metrics
WHERE minute >= toDateTime({from:UInt32}, 'UTC') AND minute < toDateTime({to:UInt32}, 'UTC')
GROUP BY name, labels, kind, minute
ORDER BY name, labels, minute_s
LIMIT {limit:UInt32}`,
    params: { from: Math.floor(from / 1000), to: Math.floor(to / 1000), limit: MAX_REPORT_ROWS },
  };
}

/** A statement row as MinuteRow (its `count_sum`, `sum_sum`, `buckets_sum` renamed). */
export function minuteRow(r: Record<string, unknown>): MinuteRow {
  const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));
  return {
    name: String(r.name),
    labels: String(r.labels),
    kind: String(r.kind),
    minute_s: num(r.minute_s),
    total: num(r.total),
    max: num(r.max),
    last: num(r.last),
    last_at: num(r.last_at),
    count: num(r.count_sum),
    sum: num(r.sum_sum),
    buckets: Array.isArray(r.buckets_sum) ? r.buckets_sum.map(num) : [],
  };
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram: the bucket holding the nearest-rank value, linearly
 * interpolated inside it and capped at the largest value seen, so it is within that bucket's width.
 */
export function quantileMs(buckets: readonly number[], q: number, maxMs: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(q * total));
  let before = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i] ?? 0;
    if (n > 0 && before + n >= rank) {
      const lower = i === 0 ? 0 : bucketUpperMs(i - 1);
      const upper = Math.min(bucketUpperMs(i), maxMs);
      if (upper <= lower) return Math.min(maxMs, Math.max(lower, upper));
      return round(lower + ((upper - lower) * (rank - before)) / n);
    }
    before += n;
  }
  return maxMs;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const HELP: Record<string, string> = { ...COUNTERS, ...TIMINGS, ...GAUGES };

const LabelsSchema = z.record(z.string(), z.string());

export const CounterSeriesSchema = z.object({
  name: z.string(),
  help: z.string(),
  labels: LabelsSchema,
  total: z.number(),
  per_minute: z.array(z.object({ minute: z.string(), value: z.number() })),
});
export type CounterSeries = z.infer<typeof CounterSeriesSchema>;

export const TimingSeriesSchema = z.object({
  name: z.string(),
  help: z.string(),
  labels: LabelsSchema,
  count: z.number(),
  sum: z.number(),
  p50: z.number(),
  p95: z.number(),
  p99: z.number(),
  max: z.number(),
  per_minute: z.array(z.object({ minute: z.string(), count: z.number(), p50: z.number(), p95: z.number() })),
});
export type TimingSeries = z.infer<typeof TimingSeriesSchema>;

export const GaugeSeriesSchema = z.object({
  name: z.string(),
  help: z.string(),
  labels: LabelsSchema,
  value: z.number(),
});
export type GaugeSeries = z.infer<typeof GaugeSeriesSchema>;

/** The JSON answer of GET /api/v1/ops/metrics (times ISO 8601, durations in ms). */
export const OpsMetricsReportSchema = z.object({
  generated_at: z.string(),
  from: z.string(),
  to: z.string(),
  minutes: z.number().int(),
  counters: z.array(CounterSeriesSchema),
  timings: z.array(TimingSeriesSchema),
  gauges: z.array(GaugeSeriesSchema),
});
export type OpsMetricsReport = z.infer<typeof OpsMetricsReportSchema>;

const parseLabels = (text: string): Labels => {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" ? (parsed as Labels) : {};
  } catch {
    return {};
  }
};

function bySeries(rows: readonly MinuteRow[], kind: string): Map<string, MinuteRow[]> {
  const groups = new Map<string, MinuteRow[]>();
  for (const r of rows) {
    if (r.kind !== kind) continue;
    const key = `${r.name}\u0000${r.labels}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  return groups;
}

function mergeBuckets(rows: readonly MinuteRow[]): number[] {
  const merged = new Array<number>(BUCKET_COUNT).fill(0);
  for (const r of rows)
    r.buckets.forEach((n, i) => {
      const b = Math.min(i, BUCKET_COUNT - 1);
      merged[b] = (merged[b] ?? 0) + n;
    });
  return merged;
}

function timing(list: MinuteRow[]): Omit<TimingSeries, "name" | "help" | "labels"> {
  const buckets = mergeBuckets(list);
  const max = Math.max(0, ...list.map((r) => r.max));
  const count = list.reduce((a, r) => a + r.count, 0);
  return {
    count,
    sum: round(list.reduce((a, r) => a + r.sum, 0)),
    p50: quantileMs(buckets, 0.5, max),
    p95: quantileMs(buckets, 0.95, max),
    p99: quantileMs(buckets, 0.99, max),
    max: round(max),
    per_minute: list.map((r) => ({
      minute: iso(r.minute_s),
      count: r.count,
      p50: quantileMs(r.buckets, 0.5, r.max),
      p95: quantileMs(r.buckets, 0.95, r.max),
    })),
  };
}

/** Gauges: each source's latest value in the window, summed per label set without `source`. */
function gauges(rows: readonly MinuteRow[]): GaugeSeries[] {
  const latest = new Map<string, MinuteRow>();
  for (const r of rows) {
    if (r.kind !== "gauge") continue;
    const key = `${r.name}\u0000${r.labels}`;
    const seen = latest.get(key);
    if (!seen || r.last_at > seen.last_at) latest.set(key, r);
  }
  const summed = new Map<string, GaugeSeries>();
  for (const r of latest.values()) {
    const { source: _source, ...labels } = parseLabels(r.labels);
    const key = `${r.name}\u0000${JSON.stringify(labels)}`;
    const g = summed.get(key) ?? { name: r.name, help: HELP[r.name] ?? "", labels, value: 0 };
    g.value += r.last;
    summed.set(key, g);
  }
  return [...summed.values()];
}

/** The answer for the statement's rows over `window`. */
export function buildReport(
  rows: readonly MinuteRow[],
  window: { from: number; to: number; minutes: number; now: number },
): OpsMetricsReport {
  const counters = [...bySeries(rows, "counter").values()].map((list): CounterSeries => {
    const first = list[0] as MinuteRow;
    return {
      name: first.name,
      help: HELP[first.name] ?? "",
      labels: parseLabels(first.labels),
      total: list.reduce((a, r) => a + r.total, 0),
      per_minute: list.map((r) => ({ minute: iso(r.minute_s), value: r.total })),
    };
  });
  const timings = [...bySeries(rows, "timing").values()].map((list): TimingSeries => {
    const first = list[0] as MinuteRow;
    return { name: first.name, help: HELP[first.name] ?? "", labels: parseLabels(first.labels), ...timing(list) };
  });
  return {
    generated_at: new Date(window.now).toISOString(),
    from: new Date(window.from).toISOString(),
    to: new Date(window.to).toISOString(),
    minutes: window.minutes,
    counters,
    timings,
    gauges: gauges(rows),
  };
}
