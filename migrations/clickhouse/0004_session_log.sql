-- Sessions become a log of changes (issue #5): the query API needs every `visit:` dimension on the
-- sessions table, and a sessions rollup built by a materialized view needs each session counted
-- once, which a table re-inserting whole rows per change cannot give.
--
-- From now on the consumer inserts only into `session_log`: for each session a batch touched, its
-- state before the batch with sign -1 (when it existed) and its state after with sign +1. Summing
-- `sign` (or `sign * column`) over the log therefore equals counting (summing) over the sessions'
-- latest versions; a rollup view over `session_log` can rely on that. `sessions` stays the
-- ReplacingMergeTree of latest versions, now filled only by the view `sessions_from_log`.
-- Columns must equal core/clickhouse-row.ts SESSION_COLUMNS and SESSION_LOG_COLUMNS (contract test).
ALTER TABLE sessions
    ADD COLUMN IF NOT EXISTS hostname LowCardinality(String) AFTER exit_page,
    ADD COLUMN IF NOT EXISTS utm_term String AFTER utm_campaign,
    ADD COLUMN IF NOT EXISTS utm_content String AFTER utm_term,
    ADD COLUMN IF NOT EXISTS browser_version LowCardinality(String) AFTER browser,
    ADD COLUMN IF NOT EXISTS os_version LowCardinality(String) AFTER os,
    ADD COLUMN IF NOT EXISTS screen_resolution LowCardinality(String) AFTER os_version,
    ADD COLUMN IF NOT EXISTS language LowCardinality(String) AFTER screen_resolution,
    ADD COLUMN IF NOT EXISTS region LowCardinality(String) AFTER country,
    ADD COLUMN IF NOT EXISTS city LowCardinality(String) AFTER region;

-- A retried insert carries the same insert_deduplication_token and is dropped here; the sink also
-- sets deduplicate_blocks_in_dependent_materialized_views = 1 so the view's insert into `sessions`
-- (and any rollup view's) is deduplicated too when only that part failed the first time.
CREATE TABLE IF NOT EXISTS session_log
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
    hostname LowCardinality(String),
    referrer_host String,
    source LowCardinality(String),
    channel LowCardinality(String),
    utm_source String,
    utm_medium LowCardinality(String),
    utm_campaign String,
    utm_term String,
    utm_content String,
    device_type LowCardinality(String),
    browser LowCardinality(String),
    browser_version LowCardinality(String),
    os LowCardinality(String),
    os_version LowCardinality(String),
    screen_resolution LowCardinality(String),
    language LowCardinality(String),
    country LowCardinality(String),
    region LowCardinality(String),
    city LowCardinality(String),
    is_bot Bool,
    version UInt32,
    sign Int8
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(opened_at)
ORDER BY (property_id, opened_at, session_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- Sessions written before the log existed enter it once, as +1 rows, so the next change of an open
-- session cancels a row that is there. Before the view exists (nothing is written back to
-- `sessions`), and only into an empty log (a re-run of this file after a failure adds nothing).
-- Run it just before deploying the consumer that writes `session_log`: what the old consumer
-- writes to `sessions` in between has no log rows.
INSERT INTO session_log
SELECT *, toInt8(1) AS sign FROM sessions FINAL
WHERE (SELECT count() FROM session_log) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_from_log TO sessions AS
SELECT
    session_id,
    property_id,
    client_id,
    opened_at,
    started_at,
    last_event_at,
    pageviews,
    events,
    interactive_events,
    is_bounce,
    duration,
    entry_page,
    exit_page,
    hostname,
    referrer_host,
    source,
    channel,
    utm_source,
    utm_medium,
    utm_campaign,
    utm_term,
    utm_content,
    device_type,
    browser,
    browser_version,
    os,
    os_version,
    screen_resolution,
    language,
    country,
    region,
    city,
    is_bot,
    version
FROM session_log
WHERE sign = 1;
