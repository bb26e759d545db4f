/**
 * The isolate's pipeline metrics recorder (issue #18): counters, timings and gauges gathered in
 * bounded memory per minute (core/ops/metrics.ts) and flushed to ClickHouse's `ops_metrics` (and
 * Workers Analytics Engine when bound). Recording never throws and never waits: it is on every
 * request's path.
 */

import { type Config, ConfigSchema } from "../core/config.ts";
import type { CounterName, GaugeName, Labels, TimingName } from "../core/ops/metric-names.ts";
import { MetricsAccumulator, type OpsMetricRow, retainForRetry } from "../core/ops/metrics.ts";
import { type MinuteRow, minuteRow, opsMetricsStatement } from "../core/ops/metrics-report.ts";
import { clickHouseClient, insertSettings, queryClickHouseClient, queryFailure, querySettings } from "./clickhouse.ts";
import { errorFields, log } from "./log.ts";

const NO_LABELS: Labels = {};
const accumulator = new MetricsAccumulator();
/** Rows a failed flush kept for the next one (bounded: core/ops/metrics.ts retainForRetry). */
let retry: OpsMetricRow[] = [];
/** Series or rows dropped since the last successful flush (too old to keep). */
let dropped = 0;
let lastFlush = 0;
let flushing: Promise<void> | undefined;
/** One warning per run of failed flushes, not one per request. */
let failing = false;
/** Analytics Engine takes at most 250 data points per invocation (Workers' limit). */
const MAX_DATA_POINTS = 250;

/**
 * What the recorder reads of its env: the Worker's Env, or a plain object of the same variables
 * (Node tests and scripts). Typed as `object`, and parsed here rather than by platform/config.ts,
 * so the modules Node also loads (the ClickHouse sink, the warehouse client) need no Workers types.
 */
type OpsEnv = object;
interface DataPointSink {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

const configs = new WeakMap<object, Config>();
function configOf(env: OpsEnv): Config {
  let config = configs.get(env);
  if (!config) {
    config = ConfigSchema.parse(env);
    configs.set(env, config);
  }
  return config;
}

/** Adds `n` to a counter. */
export function countMetric(name: CounterName, labels: Labels = NO_LABELS, n = 1): void {
  try {
    accumulator.count(name, labels, n, Date.now());
  } catch {
    // Metrics never fail the work they measure.
  }
}

/** Records a duration (ms); `n` records it that many times (a batch's events sharing one lag). */
export function observeMetric(name: TimingName, ms: number, labels: Labels = NO_LABELS, n = 1): void {
  try {
    accumulator.observe(name, ms, labels, Date.now(), n);
  } catch {
    // Metrics never fail the work they measure.
  }
}

/** Sets a gauge; actors that each report their own share give a distinct `source` label (values sum). */
export function setGauge(name: GaugeName, value: number, labels: Labels = NO_LABELS): void {
  try {
    accumulator.gauge(name, value, labels, Date.now());
  } catch {
    // Metrics never fail the work they measure.
  }
}

/** Runs `work` timed as `timing` with `labels`; a failure also counts in `errors`. */
export async function timed<T>(
  timing: TimingName,
  errors: CounterName,
  labels: Labels,
  work: () => Promise<T>,
): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } catch (error) {
    countMetric(errors, labels);
    throw error;
  } finally {
    observeMetric(timing, Date.now() - start, labels);
  }
}

/** OPS_FLUSH_SECONDS; a misconfigured env (which the request itself reports) flushes at the default. */
function flushSeconds(env: OpsEnv): number {
  try {
    return configOf(env).OPS_FLUSH_SECONDS;
  } catch {
    return 60;
  }
}

export interface FlushOptions {
  /** Flush whatever is pending now, whatever the interval (the metrics route, a test). */
  force?: boolean;
}

/**
 * Writes what the isolate gathered when OPS_FLUSH_SECONDS have passed since the last flush; call
 * from `waitUntil`. A failed write keeps its rows for the next try (bounded: retainForRetry)
 * and warns once; it never throws.
 */
export async function flushOpsMetrics(env: OpsEnv, now = Date.now(), options: FlushOptions = {}): Promise<void> {
  if (flushing) await flushing;
  if (!accumulator.pending() && retry.length === 0) return;
  if (!options.force && now - lastFlush < flushSeconds(env) * 1000) return;
  lastFlush = now;
  flushing = write(env, accumulator.drain(), now);
  try {
    await flushing;
  } finally {
    flushing = undefined;
  }
}

async function write(env: OpsEnv, fresh: OpsMetricRow[], now: number): Promise<void> {
  dropped += accumulator.dropped;
  accumulator.dropped = 0;
  writeAnalytics(env, fresh);
  const rows = retry.length > 0 ? [...retry, ...fresh] : fresh;
  try {
    const config = configOf(env);
    await clickHouseClient(config).insert({
      table: "ops_metrics",
      values: rows,
      format: "JSONEachRow",
      // Many isolates write a few rows a minute each: ClickHouse batches them (Cloud's advice). On
      // a cluster the batch is flushed into the Distributed table in the foreground, so the wait
      // ends once the shards hold the rows.
      clickhouse_settings: { async_insert: 1, wait_for_async_insert: 1, ...insertSettings(config) },
    });
    if (failing || dropped > 0) log.info("ops metrics flushed", { rows: rows.length, dropped });
    retry = [];
    dropped = 0;
    failing = false;
  } catch (error) {
    const kept = retainForRetry(rows, now);
    retry = kept.kept;
    dropped += kept.dropped;
    countMetric("clickhouse_errors", { op: "ops_metrics" });
    if (!failing)
      log.warn("ops metrics flush failed; kept for the next try", { rows: rows.length, ...errorFields(error) });
    failing = true;
  }
}

/** A drain's rows to Workers Analytics Engine, once, when bound (some local configurations have no binding). */
function writeAnalytics(env: OpsEnv, rows: readonly OpsMetricRow[]): void {
  const dataset = (env as { OPS_ANALYTICS?: Partial<DataPointSink> }).OPS_ANALYTICS;
  if (!dataset || typeof dataset.writeDataPoint !== "function") return;
  try {
    for (const r of rows.slice(0, MAX_DATA_POINTS))
      dataset.writeDataPoint({
        indexes: [r.name],
        blobs: [r.name, r.kind, r.labels, r.minute],
        doubles: [r.value, r.count, r.sum],
      });
  } catch (error) {
    if (!failing) log.warn("ops metrics: Analytics Engine write failed", errorFields(error));
  }
}

/** The rows of [from, to) summed per series and minute, as the query user (read-only). */
export async function readOpsMetrics(env: OpsEnv, from: number, to: number): Promise<MinuteRow[]> {
  const config = configOf(env);
  const statement = opsMetricsStatement(from, to);
  try {
    const result = await queryClickHouseClient(config).query({
      query: statement.sql,
      query_params: statement.params,
      format: "JSONEachRow",
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0, ...querySettings(config) },
    });
    return (await result.json<Record<string, unknown>>()).map(minuteRow);
  } catch (error) {
    throw queryFailure(error, config);
  }
}
