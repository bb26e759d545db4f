-- Sessions (issue #4), written by the events consumer from the session actors' changes. Each
-- change rewrites the whole row with a higher version; ReplacingMergeTree keeps the highest, so a
-- query with FINAL (or argMax by version) sees each session once, and a redelivered batch rewrites
-- identical rows. Partitioned and sorted by what never changes: opened_at and the session id.
-- Columns must equal core/clickhouse-row.ts SESSION_COLUMNS (contract test).
CREATE TABLE IF NOT EXISTS sessions
(
    session_id String,
    property_id LowCardinality(String),
    client_id String,
    opened_at DateTime64(3, 'UTC'),
    started_at DateTime64(3, 'UTC'),
    last_event_at DateTime64(3, 'UTC'),
    pageviews UInt32,
    events UInt32,
    interactive_events UInt32,
    is_bounce Bool,
    duration UInt32,
    entry_page String,
    exit_page String,
    referrer_host String,
    source LowCardinality(String),
    channel LowCardinality(String),
    utm_source String,
    utm_medium LowCardinality(String),
    utm_campaign String,
    device_type LowCardinality(String),
    browser LowCardinality(String),
    os LowCardinality(String),
    country LowCardinality(String),
    is_bot Bool,
    version UInt32
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(opened_at)
ORDER BY (property_id, toDate(opened_at), client_id, session_id)
SETTINGS non_replicated_deduplication_window = 10000;
