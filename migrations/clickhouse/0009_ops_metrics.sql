-- The pipeline metrics (issue #18): every isolate writes its counters, timing histograms and
-- gauges here once a minute or so (platform/ops-metrics.ts), one row per series and minute it saw;
-- GET /api/v1/ops/metrics sums them per series and minute across isolates (core/ops/metrics-report.ts).
-- `labels` is canonical JSON (sorted keys), so a series groups by plain equality. `value` is a
-- counter's sum, a timing's maximum (ms) or a gauge's last value; `count`, `sum` and `buckets` (the
-- fixed log-spaced histogram of core/ops/metrics.ts) are a timing's. Rows are summed at read time, so
-- plain MergeTree. Operational data, not visitors': kept 30 days whatever the retention settings.
-- Columns must equal core/ops/metrics.ts OPS_METRIC_COLUMNS (test/integration/ops-metrics-contract.test.ts).
CREATE TABLE IF NOT EXISTS ops_metrics
(
    minute DateTime('UTC'),
    name LowCardinality(String),
    labels String,
    kind LowCardinality(String),
    value Float64,
    count UInt64,
    sum Float64,
    buckets Array(UInt64),
    recorded_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(minute)
ORDER BY (name, minute, labels)
TTL minute + INTERVAL 30 DAY;
