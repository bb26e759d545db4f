/**
 * The pipeline metrics' accumulator (issue #18), pure: counters, timing histograms and gauges of
 * one isolate, gathered per minute in bounded memory and drained as `ops_metrics` rows. Recording
 * is O(1): a key string and one map update (it runs on every /collect request).
 */
import { z } from "zod";
import type { Labels } from "./metric-names.ts";

export const MINUTE_MS = 60_000;
/** Series one minute may hold; past it, a name's new label sets fold into `{other:"true"}`. */
export const MAX_SERIES_PER_MINUTE = 500;
/** Minutes kept while no flush succeeds; older ones are dropped (and counted as dropped). */
export const MAX_PENDING_MINUTES = 5;
/** Gauge series kept (each actor reports its own); past it, new ones are ignored. */
export const MAX_GAUGES = 1_000;
export const MAX_LABEL_VALUE = 64;
export const MAX_LABELS = 6;
export const OVERFLOW_LABELS: Labels = { other: "true" };

/**
 * Histogram buckets: upper bounds 2^(i/4) ms for i = 0…64 (1 ms … 65.5 s, each ~19% wider than the
 * last), then one bucket for anything slower. An estimate from them is within a bucket's width.
 */
export const BUCKETS_PER_DOUBLING = 4;
export const FINITE_BUCKETS = 65;
export const BUCKET_COUNT = FINITE_BUCKETS + 1;

/** The upper bound (ms) of bucket `i`; Infinity for the last. */
export function bucketUpperMs(i: number): number {
  return i >= FINITE_BUCKETS ? Number.POSITIVE_INFINITY : 2 ** (i / BUCKETS_PER_DOUBLING);
}

/** The bucket a duration falls in: the first whose upper bound is ≥ ms. */
export function bucketIndex(ms: number): number {
  if (!(ms > 1)) return 0;
  const i = Math.ceil(Math.log2(ms) * BUCKETS_PER_DOUBLING - 1e-9);
  return Math.min(i, FINITE_BUCKETS);
}

export const METRIC_KINDS = ["counter", "timing", "gauge"] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

/**
 * One `ops_metrics` row: a series' minute. `value` is a counter's sum, a timing's maximum (ms) or
 * a gauge's last value; `count`, `sum` and `buckets` are a timing's (zero and empty otherwise).
 * `labels` is canonical JSON (keys sorted), so equal label sets group together in SQL.
 */
export const OpsMetricRowSchema = z.object({
  minute: z.string(),
  name: z.string(),
  labels: z.string(),
  kind: z.enum(METRIC_KINDS),
  value: z.number(),
  count: z.number().int().nonnegative(),
  sum: z.number(),
  buckets: z.array(z.number().int().nonnegative()),
  recorded_at: z.string(),
});
export type OpsMetricRow = z.infer<typeof OpsMetricRowSchema>;

/** The table's columns as migration 0009 creates them (test/integration/ops-metrics-contract.test.ts). */
export const OPS_METRIC_COLUMNS: Record<keyof OpsMetricRow, string> = {
  minute: "DateTime('UTC')",
  name: "LowCardinality(String)",
  labels: "String",
  kind: "LowCardinality(String)",
  value: "Float64",
  count: "UInt64",
  sum: "Float64",
  buckets: "Array(UInt64)",
  recorded_at: "DateTime64(3, 'UTC')",
};

/** ClickHouse's text for a UTC time: `YYYY-MM-DD hh:mm:ss.sss`. */
export const clickHouseTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
/** The UTC time a ClickHouse text names (the inverse of clickHouseTime, seconds or milliseconds). */
export const parseTime = (text: string) => Date.parse(`${text.replace(" ", "T")}Z`);

interface Series {
  name: string;
  kind: MetricKind;
  labels: string;
  value: number;
  count: number;
  sum: number;
  buckets: number[] | undefined;
  at: number;
}

/** Label values as kept: text, at most MAX_LABEL_VALUE characters. */
const clip = (v: string) => (v.length > MAX_LABEL_VALUE ? v.slice(0, MAX_LABEL_VALUE) : v);

/** The canonical JSON of a label set (sorted keys, clipped values, at most MAX_LABELS). */
export function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "{}";
  if (keys.length > 1) keys.sort();
  const entries: Record<string, string> = {};
  for (const k of keys.slice(0, MAX_LABELS)) entries[clip(k)] = clip(String(labels[k]));
  return JSON.stringify(entries);
}

/** The series key; label text only (no JSON) so the hot path allocates one string. */
function seriesKey(name: string, labels: Labels): string {
  let key = name;
  for (const k in labels) key += `\u0000${k}\u0001${labels[k]}`;
  return key;
}

/** Counters, timings and gauges of one isolate, by minute, until drained. */
export class MetricsAccumulator {
  private readonly minutes = new Map<number, Map<string, Series>>();
  private readonly gauges = new Map<string, Series>();
  private dirtyGauges = false;
  /** Series dropped because their minute was too old to keep (reported by the recorder). */
  dropped = 0;

  count(name: string, labels: Labels, n: number, now: number): void {
    if (!(n > 0) || !Number.isFinite(n)) return;
    const s = this.series(name, "counter", labels, now);
    s.value += n;
  }

  observe(name: string, ms: number, labels: Labels, now: number, n = 1): void {
    if (!Number.isFinite(ms) || !(n > 0)) return;
    const value = Math.max(ms, 0);
    const s = this.series(name, "timing", labels, now);
    s.buckets ??= new Array<number>(BUCKET_COUNT).fill(0);
    const i = bucketIndex(value);
    s.buckets[i] = (s.buckets[i] ?? 0) + n;
    s.count += n;
    s.sum += value * n;
    if (value > s.value) s.value = value;
  }

  /** The gauge's value now; `labels.source` tells apart the actors whose values sum. */
  gauge(name: string, value: number, labels: Labels, now: number): void {
    if (!Number.isFinite(value)) return;
    const key = seriesKey(name, labels);
    let s = this.gauges.get(key);
    if (!s) {
      if (this.gauges.size >= MAX_GAUGES) return;
      s = {
        name,
        kind: "gauge",
        labels: canonicalLabels(labels),
        value,
        count: 0,
        sum: 0,
        buckets: undefined,
        at: now,
      };
      this.gauges.set(key, s);
    }
    s.value = value;
    s.at = now;
    s.count = 1;
    this.dirtyGauges = true;
  }

  /** True when a drain would return rows. */
  pending(): boolean {
    return this.minutes.size > 0 || this.dirtyGauges;
  }

  /** Every gathered row (minutes and gauges set since the last drain), leaving the accumulator empty. */
  drain(): OpsMetricRow[] {
    const rows: OpsMetricRow[] = [];
    for (const [minute, series] of this.minutes) for (const s of series.values()) rows.push(toRow(minute, s));
    this.minutes.clear();
    for (const s of this.gauges.values()) {
      if (s.count === 0) continue;
      rows.push(toRow(Math.floor(s.at / MINUTE_MS), s));
      s.count = 0;
    }
    this.dirtyGauges = false;
    return rows;
  }

  private minute(now: number): Map<string, Series> {
    const minute = Math.floor(now / MINUTE_MS);
    let series = this.minutes.get(minute);
    if (series) return series;
    series = new Map();
    this.minutes.set(minute, series);
    // Nobody flushed for a while (ClickHouse down, an idle isolate): keep the newest minutes only.
    if (this.minutes.size > MAX_PENDING_MINUTES) {
      const oldest = Math.min(...this.minutes.keys());
      this.dropped += this.minutes.get(oldest)?.size ?? 0;
      this.minutes.delete(oldest);
    }
    return series;
  }

  private series(name: string, kind: MetricKind, labels: Labels, now: number): Series {
    const minute = this.minute(now);
    let key = seriesKey(name, labels);
    let s = minute.get(key);
    if (s) return s;
    let canonical: string;
    if (minute.size >= MAX_SERIES_PER_MINUTE) {
      key = seriesKey(name, OVERFLOW_LABELS);
      s = minute.get(key);
      if (s) return s;
      canonical = canonicalLabels(OVERFLOW_LABELS);
    } else canonical = canonicalLabels(labels);
    s = { name, kind, labels: canonical, value: 0, count: 0, sum: 0, buckets: undefined, at: now };
    minute.set(key, s);
    return s;
  }
}

/** Rows kept for the next flush after one failed: at most MAX_RETRY_ROWS. */
export const MAX_RETRY_ROWS = MAX_SERIES_PER_MINUTE * MAX_PENDING_MINUTES;

/**
 * What a failed flush keeps for the next one: rows of the last MAX_PENDING_MINUTES, the newest
 * MAX_RETRY_ROWS of them. Sent again as they are (the report sums rows), so Analytics Engine,
 * written once per drain, never sees a row twice.
 */
export function retainForRetry(rows: readonly OpsMetricRow[], now: number): { kept: OpsMetricRow[]; dropped: number } {
  const current = Math.floor(now / MINUTE_MS);
  const recent = rows.filter((r) => current - Math.floor(parseTime(r.minute) / MINUTE_MS) < MAX_PENDING_MINUTES);
  const kept = recent.length > MAX_RETRY_ROWS ? [...recent].sort(byMinute).slice(-MAX_RETRY_ROWS) : recent;
  return { kept, dropped: rows.length - kept.length };
}

const byMinute = (a: OpsMetricRow, b: OpsMetricRow) => (a.minute < b.minute ? -1 : a.minute > b.minute ? 1 : 0);

function toRow(minute: number, s: Series): OpsMetricRow {
  return {
    minute: clickHouseTime(minute * MINUTE_MS).slice(0, 19),
    name: s.name,
    labels: s.labels,
    kind: s.kind,
    value: s.value,
    count: s.kind === "timing" ? s.count : 0,
    sum: s.sum,
    buckets: s.buckets ? [...s.buckets] : [],
    recorded_at: clickHouseTime(s.at),
  };
}
