-- The events table of our spec: one row per accepted event, the hot store for queries up to
-- HOT_RETENTION_DAYS. Columns must equal core/clickhouse-row.ts EVENT_COLUMNS (contract test).
CREATE TABLE IF NOT EXISTS events
(
    event_id String,
    property_id LowCardinality(String),
    client_id String,
    user_id String,
    session_id String,
    event_type LowCardinality(String),
    event_timestamp DateTime64(3, 'UTC'),
    received_at DateTime64(3, 'UTC'),
    page_url String,
    page_title String,
    referrer String,
    user_agent String,
    screen_resolution LowCardinality(String),
    viewport_size LowCardinality(String),
    language LowCardinality(String),
    custom_dimensions Map(String, String),
    custom_metrics Map(String, Float64),
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_session_id session_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_page_url page_url TYPE tokenbf_v1(10240, 3, 0) GRANULARITY 4
)
ENGINE = MergeTree
PARTITION BY toYYYYMMDD(event_timestamp)
ORDER BY (property_id, event_timestamp, client_id)
-- Retried consumer inserts carry insert_deduplication_token; for a non-replicated MergeTree
-- the deduplication window is 0 (off) unless set here.
SETTINGS non_replicated_deduplication_window = 10000;
