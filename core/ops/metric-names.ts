/**
 * The pipeline metrics' catalog (issue #18): every name the Worker, its consumers and its actors
 * record, with its kind and labels. One definition: the recorder, the ClickHouse rows, the JSON and
 * Prometheus answers and the Operations page all read this list.
 */
export const COUNTERS = {
  events_accepted: "events accepted at an ingestion route (label route)",
  events_refused: "events or requests refused, by reason (validation, origin, unknown_property, …)",
  events_rate_limited: "requests refused by a rate limit (label scope: ip, property, import)",
  bot_hits: "events flagged as bots, by reason",
  events_by_location: "events accepted by Cloudflare location (colo) and country",
  consumer_messages: "queue messages delivered to the events consumer (label queue)",
  consumer_retries: "queue messages delivered again after a failure (label queue)",
  dead_lettered: "messages the events queues gave up on (kept in R2 under dead-letters/)",
  dead_letters_replayed: "dead letters sent back into the pipeline by an operator",
  dead_letters_dropped: "dead letters dropped by an operator (with an audit record)",
  clickhouse_errors: "ClickHouse requests that failed (label op: insert, query)",
  warehouse_errors: "warehouse statements that failed",
  archive_errors: "consumer deliveries whose archive write (R2/S3) failed (retried whole)",
  cache_lookups: "cache lookups by layer (query, property) and result (hit, miss)",
  query_errors: "query API answers ≥ 500 by route",
  alerts_opened: "traffic alerts opened, by kind",
  webhook_deliveries: "alert webhook deliveries by result (ok, retry, failed, capped)",
  job_runs: "scheduled jobs (compaction, retention, TTLs, warehouse) by job and result (ok, failed)",
} as const;

export const TIMINGS = {
  queue_lag_ms: "accepted at the edge → consumed (the queue message's age)",
  processing_lag_ms: "event received → its ClickHouse row inserted",
  clickhouse_ms: "ClickHouse request latency (label op)",
  warehouse_ms: "warehouse statement latency",
  archive_write_ms: "the archive write of a consumer delivery (R2/S3): storage performance",
  query_ms: "query API latency by route",
  job_ms: "scheduled job duration by job",
} as const;

export const GAUGES = {
  live_viewers: "dashboards connected to live WebSockets",
} as const;

export type CounterName = keyof typeof COUNTERS;
export type TimingName = keyof typeof TIMINGS;
export type GaugeName = keyof typeof GAUGES;
export type Labels = Readonly<Record<string, string>>;
