/**
 * The monitoring board's tiles, in the order of the spec's board: each a headline figure, a
 * per-minute chart and a breakdown by label, built once per metrics answer (pure; the charts redraw
 * only when the answer changes).
 */
import { integerNumber } from "../../format.ts";
import {
  cacheLayers,
  cacheRatioPerMinute,
  counterBy,
  counterPerMinute,
  counterTotal,
  formatMs,
  minuteAxis,
  type OpsMetrics,
  timingPerMinute,
  timingSummary,
  timings,
} from "./metrics.ts";

/** A chart line as components/time-chart.tsx takes it (kept here: Node's typecheck of the unit tests has no JSX). */
export interface Series {
  label: string;
  values: number[];
  /** Drawn dashed and muted: the secondary line. */
  previous?: boolean;
}

export interface TileModel {
  /** Also the tile's test id. */
  id: string;
  title: string;
  value: string;
  caption: string;
  x: number[];
  series: Series[];
  format: (v: number) => string;
  /** The breakdown's header (first: the label's name) and rows. */
  columns: string[];
  rows: { key: string; cells: string[] }[];
  /** What would appear, said when nothing was recorded. */
  empty: string;
  hasData: boolean;
}

const count = (v: number) => integerNumber(v);
const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 });
const ratio = (v: number | undefined) => (v === undefined ? "–" : percent.format(v));
const ratioAxis = (v: number) => percent.format(v);
const perMinute = (total: number, minutes: number) =>
  `${(total / Math.max(1, minutes)).toLocaleString(undefined, { maximumFractionDigits: 1 })}/min on average`;

function latencyTile(
  m: OpsMetrics,
  x: number[],
  id: string,
  title: string,
  name: "queue_lag_ms" | "processing_lag_ms" | "clickhouse_ms" | "warehouse_ms",
  errors: { name: "clickhouse_errors" | "warehouse_errors"; label?: string } | undefined,
  empty: string,
): TileModel {
  const summary = timingSummary(m, name);
  const { p50, p95 } = timingPerMinute(m, x, name);
  const errorTotal = errors ? counterTotal(m, errors.name) : 0;
  const sets = timings(m, name);
  const labelled = sets.some((t) => Object.keys(t.labels).length > 0);
  const errorsBy = errors?.label ? new Map(counterBy(m, errors.name, errors.label).map((e) => [e.key, e.total])) : null;
  return {
    id,
    title,
    value: summary ? formatMs(summary.p95) : "–",
    caption: [
      summary ? `p95 · p50 ${formatMs(summary.p50)} · ${count(summary.count)} measured` : "p95",
      errors ? `${count(errorTotal)} error${errorTotal === 1 ? "" : "s"}` : "",
    ]
      .filter(Boolean)
      .join(" · "),
    x,
    series: [
      { label: "p95", values: p95 },
      // Drawn in the chart's secondary style (dashed, muted): the component's "previous" look.
      { label: "p50", values: p50, previous: true },
    ],
    format: formatMs,
    columns: labelled || errorsBy ? ["", "count", "p50", "p95", ...(errorsBy ? ["errors"] : [])] : [],
    rows:
      labelled || errorsBy
        ? sets.map((t) => ({
            key: Object.values(t.labels).join(" · ") || "all",
            cells: [
              count(t.count),
              formatMs(t.p50),
              formatMs(t.p95),
              ...(errorsBy ? [count(errorsBy.get(t.labels[errors?.label ?? ""] ?? "") ?? 0)] : []),
            ],
          }))
        : [],
    empty,
    hasData: Boolean(summary) || errorTotal > 0,
  };
}

function ingestion(m: OpsMetrics, x: number[]): TileModel {
  const total = counterTotal(m, "events_accepted");
  return {
    id: "ops-ingestion",
    title: "Ingestion rate",
    value: count(total),
    caption: `events accepted · ${perMinute(total, m.minutes)}`,
    x,
    series: [{ label: "accepted", values: counterPerMinute(m, x, "events_accepted") }],
    format: count,
    columns: ["route", "events"],
    rows: counterBy(m, "events_accepted", "route").map((r) => ({ key: r.key, cells: [count(r.total)] })),
    empty: "Events accepted at /collect, the Measurement Protocol and imports appear here, per minute and by route.",
    hasData: total > 0,
  };
}

function refused(m: OpsMetrics, x: number[]): TileModel {
  const total = counterTotal(m, "events_refused");
  const limited = counterTotal(m, "events_rate_limited");
  return {
    id: "ops-refused",
    title: "Refused and rate-limited",
    value: count(total),
    caption: `refused · ${count(limited)} rate-limited`,
    x,
    series: [
      { label: "refused", values: counterPerMinute(m, x, "events_refused") },
      { label: "rate-limited", values: counterPerMinute(m, x, "events_rate_limited"), previous: true },
    ],
    format: count,
    columns: ["reason", "events"],
    rows: [
      ...counterBy(m, "events_refused", "reason").map((r) => ({ key: r.key, cells: [count(r.total)] })),
      ...counterBy(m, "events_rate_limited", "scope").map((r) => ({
        key: `rate limit: ${r.key}`,
        cells: [count(r.total)],
      })),
    ],
    empty: "Refusals (invalid events, unknown properties, wrong origins) and rate-limited requests appear here.",
    hasData: total + limited > 0,
  };
}

function bots(m: OpsMetrics, x: number[]): TileModel {
  const total = counterTotal(m, "bot_hits");
  return {
    id: "ops-bots",
    title: "Bot hits",
    value: count(total),
    caption: "events flagged as bots",
    x,
    series: [{ label: "bot hits", values: counterPerMinute(m, x, "bot_hits") }],
    format: count,
    columns: ["reason", "events"],
    rows: counterBy(m, "bot_hits", "reason").map((r) => ({ key: r.key, cells: [count(r.total)] })),
    empty: "Events the edge flags as bots appear here by reason (crawler, headless browser, data centre…).",
    hasData: total > 0,
  };
}

function consumer(m: OpsMetrics, x: number[]): TileModel {
  const dead = counterTotal(m, "dead_lettered");
  const retries = counterTotal(m, "consumer_retries");
  const messages = counterTotal(m, "consumer_messages");
  const retriesBy = new Map(counterBy(m, "consumer_retries", "queue").map((r) => [r.key, r.total]));
  return {
    id: "ops-consumer",
    title: "Consumer retries and dead letters",
    value: count(dead),
    caption: `dead-lettered · ${count(retries)} retries of ${count(messages)} messages · ${count(counterTotal(m, "dead_letters_replayed"))} replayed · ${count(counterTotal(m, "dead_letters_dropped"))} dropped`,
    x,
    series: [
      { label: "retries", values: counterPerMinute(m, x, "consumer_retries") },
      { label: "dead-lettered", values: counterPerMinute(m, x, "dead_lettered"), previous: true },
    ],
    format: count,
    columns: ["queue", "messages", "retries"],
    rows: counterBy(m, "consumer_messages", "queue").map((r) => ({
      key: r.key,
      cells: [count(r.total), count(retriesBy.get(r.key) ?? 0)],
    })),
    empty: "Queue messages the consumer handled, its retries and the messages it gave up on appear here.",
    hasData: dead + retries + messages > 0,
  };
}

function queries(m: OpsMetrics, x: number[]): TileModel {
  const summary = timingSummary(m, "query_ms");
  const errorsBy = new Map(counterBy(m, "query_errors", "route").map((r) => [r.key, r.total]));
  return {
    id: "ops-queries",
    title: "Query latency by route",
    value: summary ? formatMs(summary.p95) : "–",
    caption: summary ? `p95 of the slowest route · ${count(summary.count)} queries` : "p95",
    x,
    series: [{ label: "p95 (slowest route)", values: timingPerMinute(m, x, "query_ms").p95 }],
    format: formatMs,
    columns: ["route", "count", "p50", "p95", "p99", "errors"],
    rows: timings(m, "query_ms").map((t) => ({
      key: t.labels.route ?? "",
      cells: [
        count(t.count),
        formatMs(t.p50),
        formatMs(t.p95),
        formatMs(t.p99),
        count(errorsBy.get(t.labels.route ?? "") ?? 0),
      ],
    })),
    empty: "Latency of the query API (reports, breakdowns, exports) appears here by route, with p50, p95 and p99.",
    hasData: Boolean(summary),
  };
}

function cache(m: OpsMetrics, x: number[]): TileModel {
  const layers = cacheLayers(m);
  const hits = layers.reduce((n, l) => n + l.hits, 0);
  const lookups = layers.reduce((n, l) => n + l.hits + l.misses, 0);
  return {
    id: "ops-cache",
    title: "Cache hit ratio",
    value: ratio(lookups ? hits / lookups : undefined),
    caption: `of ${count(lookups)} lookups, all layers`,
    x,
    series: [{ label: "hit ratio", values: cacheRatioPerMinute(m, x) }],
    format: ratioAxis,
    columns: ["layer", "hits", "misses", "hit ratio"],
    rows: layers.map((l) => ({ key: l.layer, cells: [count(l.hits), count(l.misses), ratio(l.ratio)] })),
    empty: "Hits and misses of the query cache and the property cache appear here by layer.",
    hasData: lookups > 0,
  };
}

function alerts(m: OpsMetrics, x: number[]): TileModel {
  const opened = counterTotal(m, "alerts_opened");
  const deliveries = counterTotal(m, "webhook_deliveries");
  return {
    id: "ops-alerts",
    title: "Traffic alerts and webhooks",
    value: count(opened),
    caption: `alerts opened · ${count(deliveries)} webhook deliveries`,
    x,
    series: [{ label: "alerts opened", values: counterPerMinute(m, x, "alerts_opened") }],
    format: count,
    columns: ["", "count"],
    rows: [
      ...counterBy(m, "alerts_opened", "kind").map((r) => ({ key: `alert: ${r.key}`, cells: [count(r.total)] })),
      ...counterBy(m, "webhook_deliveries", "result").map((r) => ({
        key: `webhook: ${r.key}`,
        cells: [count(r.total)],
      })),
    ],
    empty:
      "Alerts the anomaly detection opens, and their webhook deliveries (ok, retried, failed, capped), appear here.",
    hasData: opened + deliveries > 0,
  };
}

export function buildBoard(m: OpsMetrics): TileModel[] {
  const x = minuteAxis(m);
  return [
    ingestion(m, x),
    refused(m, x),
    bots(m, x),
    latencyTile(m, x, "ops-queue-lag", "Queue lag", "queue_lag_ms", undefined, QUEUE_LAG_EMPTY),
    latencyTile(m, x, "ops-processing-lag", "Processing lag", "processing_lag_ms", undefined, PROCESSING_LAG_EMPTY),
    consumer(m, x),
    latencyTile(m, x, "ops-clickhouse", "ClickHouse latency and errors", "clickhouse_ms", CH_ERRORS, CH_EMPTY),
    latencyTile(m, x, "ops-warehouse", "Warehouse latency and errors", "warehouse_ms", WH_ERRORS, WH_EMPTY),
    queries(m, x),
    cache(m, x),
    alerts(m, x),
  ];
}

const CH_ERRORS = { name: "clickhouse_errors", label: "op" } as const;
const WH_ERRORS = { name: "warehouse_errors" } as const;
const QUEUE_LAG_EMPTY = "How long events wait in the queue between the edge and the consumer (p50, p95) appears here.";
const PROCESSING_LAG_EMPTY = "How long an event takes from arrival to its ClickHouse row (p50, p95) appears here.";
const CH_EMPTY = "ClickHouse request latency by operation (insert, query) and its failures appear here.";
const WH_EMPTY =
  "Warehouse statement latency and failures appear here (only ranges past ClickHouse's retention use it).";

/** The regional distribution: `events_by_location` by Cloudflare location and by country. */
export function regions(m: OpsMetrics): {
  locations: { key: string; total: number }[];
  countries: { key: string; total: number }[];
} {
  return {
    locations: counterBy(m, "events_by_location", "colo"),
    countries: counterBy(m, "events_by_location", "country"),
  };
}
