/**
 * `GET /api/v1/ops/metrics` read for the board: the window's minute axis, and
 * counters and timings summed or merged across their label sets per minute. Pure, so the unit tests
 * hold the arithmetic without a browser.
 */
import type { CounterName, GaugeName, TimingName } from "../../../../../core/ops/metric-names.ts";
import type { CounterSeries, OpsMetricsReport, TimingSeries } from "../../../../../core/ops/metrics-report.ts";

export type { CounterSeries, TimingSeries };
/** The answer of `GET /api/v1/ops/metrics` (core/ops/metrics-report.ts). */
export type OpsMetrics = OpsMetricsReport;
type Labels = Record<string, string>;

/** The window's minutes as seconds since the epoch (the charts' x), oldest first. */
export function minuteAxis(m: Pick<OpsMetrics, "from" | "to" | "counters" | "timings">): number[] {
  const from = Math.floor(Date.parse(m.from) / 60_000);
  const to = Math.floor(Date.parse(m.to) / 60_000);
  if (Number.isFinite(from) && Number.isFinite(to) && to >= from && to - from <= 1500) {
    const axis: number[] = [];
    for (let minute = from; minute <= to; minute++) axis.push(minute * 60);
    return axis;
  }
  // No usable window: the minutes the series name.
  const seen = new Set<number>();
  for (const s of [...m.counters, ...m.timings])
    for (const p of s.per_minute) seen.add(Math.floor(Date.parse(p.minute) / 60_000) * 60);
  return [...seen].filter(Number.isFinite).sort((a, b) => a - b);
}

const slot = (minute: string) => Math.floor(Date.parse(minute) / 60_000) * 60;

type Where = (labels: Labels) => boolean;
const all: Where = () => true;

export function counterTotal(m: OpsMetrics, name: CounterName, where: Where = all): number {
  return m.counters.filter((c) => c.name === name && where(c.labels)).reduce((n, c) => n + c.total, 0);
}

/** A counter summed over its label sets, per minute of the axis (0 where nothing was counted). */
export function counterPerMinute(m: OpsMetrics, axis: number[], name: CounterName, where: Where = all): number[] {
  const index = new Map(axis.map((x, i) => [x, i]));
  const values = axis.map(() => 0);
  for (const c of m.counters) {
    if (c.name !== name || !where(c.labels)) continue;
    for (const p of c.per_minute) {
      const i = index.get(slot(p.minute));
      if (i !== undefined) values[i] = (values[i] ?? 0) + p.value;
    }
  }
  return values;
}

/** A counter's totals by one label, largest first. */
export function counterBy(m: OpsMetrics, name: CounterName, label: string): { key: string; total: number }[] {
  const totals = new Map<string, number>();
  for (const c of m.counters)
    if (c.name === name) totals.set(c.labels[label] ?? "", (totals.get(c.labels[label] ?? "") ?? 0) + c.total);
  return [...totals]
    .map(([key, total]) => ({ key, total }))
    .sort((a, b) => b.total - a.total || (a.key < b.key ? -1 : 1));
}

export function timings(m: OpsMetrics, name: TimingName): TimingSeries[] {
  return m.timings.filter((t) => t.name === name).sort((a, b) => b.count - a.count);
}

export interface TimingSummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * A timing over all its label sets. Percentiles of different sets cannot be merged exactly, so with
 * several the figures are the slowest set's: the board errs towards showing a problem.
 */
export function timingSummary(m: OpsMetrics, name: TimingName): TimingSummary | undefined {
  const sets = timings(m, name).filter((t) => t.count > 0);
  if (sets.length === 0) return undefined;
  return {
    count: sets.reduce((n, t) => n + t.count, 0),
    p50: Math.max(...sets.map((t) => t.p50)),
    p95: Math.max(...sets.map((t) => t.p95)),
    p99: Math.max(...sets.map((t) => t.p99)),
    max: Math.max(...sets.map((t) => t.max)),
  };
}

/** p50 and p95 per minute of the axis, the slowest label set's where there are several (0: no samples). */
export function timingPerMinute(m: OpsMetrics, axis: number[], name: TimingName): { p50: number[]; p95: number[] } {
  const index = new Map(axis.map((x, i) => [x, i]));
  const p50 = axis.map(() => 0);
  const p95 = axis.map(() => 0);
  for (const t of timings(m, name))
    for (const p of t.per_minute) {
      const i = index.get(slot(p.minute));
      if (i === undefined || p.count === 0) continue;
      p50[i] = Math.max(p50[i] ?? 0, p.p50);
      p95[i] = Math.max(p95[i] ?? 0, p.p95);
    }
  return { p50, p95 };
}

export interface CacheLayer {
  layer: string;
  hits: number;
  misses: number;
  /** hits / lookups; undefined without a lookup. */
  ratio: number | undefined;
}

const isHit = (labels: Labels) => labels.result === "hit";

/** `cache_lookups{layer,result}` as a hit ratio per layer. */
export function cacheLayers(m: OpsMetrics): CacheLayer[] {
  const layers = new Map<string, CacheLayer>();
  for (const c of m.counters) {
    if (c.name !== "cache_lookups") continue;
    const layer = c.labels.layer ?? "";
    const entry = layers.get(layer) ?? { layer, hits: 0, misses: 0, ratio: undefined };
    if (isHit(c.labels)) entry.hits += c.total;
    else entry.misses += c.total;
    layers.set(layer, entry);
  }
  return [...layers.values()]
    .map((l) => ({ ...l, ratio: l.hits + l.misses > 0 ? l.hits / (l.hits + l.misses) : undefined }))
    .sort((a, b) => a.layer.localeCompare(b.layer));
}

/** The hit ratio of all layers together per minute (0 in a minute without lookups). */
export function cacheRatioPerMinute(m: OpsMetrics, axis: number[]): number[] {
  const hits = counterPerMinute(m, axis, "cache_lookups", isHit);
  const lookups = counterPerMinute(m, axis, "cache_lookups");
  return lookups.map((n, i) => (n > 0 ? (hits[i] ?? 0) / n : 0));
}

export function gaugeTotal(m: OpsMetrics, name: GaugeName): number | undefined {
  const values = m.gauges.filter((g) => g.name === name);
  return values.length ? values.reduce((n, g) => n + g.value, 0) : undefined;
}

/** Milliseconds as a person reads them: "850 ms", "1.2 s", "3 min". */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return "–";
  if (ms === 0) return "0 ms";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
