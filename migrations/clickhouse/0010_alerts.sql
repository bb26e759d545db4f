-- Traffic alerts (issue #18): what each property's detector (the PropertyDO) opened and resolved.
-- The actor keeps only its last 200; this table keeps the history for the dashboard and for SQL.
-- A resolve inserts the alert again with a higher version, so the ReplacingMergeTree keeps one row
-- per (property_id, alert_id): read with FINAL (or argMax by version) for the latest state. The
-- actor's outbox retries an insert with the same insert_deduplication_token, dropped here.
-- Columns must equal platform/alerts-sink.ts ALERT_COLUMNS (test/integration/alerts-contract.test.ts).
-- Rows go after the compliance period like every other table's (migration 0008).
CREATE TABLE IF NOT EXISTS alerts
(
    property_id LowCardinality(String),
    alert_id String,
    kind LowCardinality(String),
    metric LowCardinality(String),
    subject String,
    status LowCardinality(String),
    opened_at DateTime64(3, 'UTC'),
    resolved_at Nullable(DateTime64(3, 'UTC')),
    minute DateTime64(3, 'UTC'),
    observed Float64,
    expected Float64,
    deviation Float64,
    message String,
    version UInt8
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY (property_id, alert_id)
TTL toDateTime(opened_at) + INTERVAL 730 DAY
SETTINGS non_replicated_deduplication_window = 10000;
