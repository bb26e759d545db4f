-- Exact unique counts (issue #15). The rollups of 0006 kept visitors at HyperLogLog precision 14
-- for totals and 12 for breakdowns: a small site saw 163 visitors on a page 161 people viewed.
-- Every unique count is now one sketch, uniqCombined64(19) (core/query/sketch.ts says why):
-- exact up to 16,000 distinct values per row, then HyperLogLog at σ ≈ 0.14%. One state column per
-- count replaces the two precisions.
--
-- The rollups are projections of events/session_log: dropped and rebuilt here, as 0006 did (the
-- hourly tables from the raw ones, the day blocks through their views). Rows stored between the
-- backfill and the views' creation would be missed: run migrations before the consumers, as
-- `npm run dev` does. The deduplication window of 0007 is part of each table's settings now.
DROP VIEW IF EXISTS events_rollup_mv;
DROP VIEW IF EXISTS sessions_rollup_mv;
DROP VIEW IF EXISTS events_rollup_days_mv;
DROP VIEW IF EXISTS sessions_rollup_days_mv;
DROP TABLE IF EXISTS events_rollup;
DROP TABLE IF EXISTS sessions_rollup;
DROP TABLE IF EXISTS events_rollup_days;
DROP TABLE IF EXISTS sessions_rollup_days;

CREATE TABLE events_rollup
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    hour DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined64(19), String),
    visits AggregateFunction(uniqCombined64(19), String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

CREATE TABLE events_rollup_days
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    span UInt8,
    day DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined64(19), String),
    visits AggregateFunction(uniqCombined64(19), String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (property_id, dim, span, day, is_bot, value)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW events_rollup_days_mv TO events_rollup_days AS
SELECT
    property_id,
    dim,
    span,
    toDateTime(intDiv(toUInt32(hour), 86400 * span) * 86400 * span, 'UTC') AS day,
    is_bot,
    value,
    uniqCombined64MergeState(19)(visitors) AS visitors,
    uniqCombined64MergeState(19)(visits) AS visits,
    sum(pageviews) AS pageviews,
    sum(events) AS events
FROM events_rollup
ARRAY JOIN [1, 2, 4, 8, 16, 32, 64] AS span
GROUP BY property_id, dim, span, day, is_bot, value;

INSERT INTO events_rollup
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombined64State(19)(client_id) AS visitors,
    uniqCombined64State(19)(session_id) AS visits,
    toUInt64(countIf(event_type = 'pageview')) AS pageviews,
    toUInt64(count()) AS events
FROM events
ARRAY JOIN [
    ('', ''),
    ('event:page', page_path),
    ('event:name', toString(event_type)),
    ('event:hostname', toString(page_host)),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country))
] AS pair
GROUP BY property_id, dim, hour, is_bot, value;

CREATE MATERIALIZED VIEW events_rollup_mv TO events_rollup AS
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombined64State(19)(client_id) AS visitors,
    uniqCombined64State(19)(session_id) AS visits,
    toUInt64(countIf(event_type = 'pageview')) AS pageviews,
    toUInt64(count()) AS events
FROM events
ARRAY JOIN [
    ('', ''),
    ('event:page', page_path),
    ('event:name', toString(event_type)),
    ('event:hostname', toString(page_host)),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country))
] AS pair
GROUP BY property_id, dim, hour, is_bot, value;

CREATE TABLE sessions_rollup
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    hour DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined64(19), String),
    visits SimpleAggregateFunction(sum, Int64),
    bounces SimpleAggregateFunction(sum, Int64),
    duration SimpleAggregateFunction(sum, Int64),
    pageviews SimpleAggregateFunction(sum, Int64),
    events SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

CREATE TABLE sessions_rollup_days
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    span UInt8,
    day DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined64(19), String),
    visits SimpleAggregateFunction(sum, Int64),
    bounces SimpleAggregateFunction(sum, Int64),
    duration SimpleAggregateFunction(sum, Int64),
    pageviews SimpleAggregateFunction(sum, Int64),
    events SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (property_id, dim, span, day, is_bot, value)
SETTINGS index_granularity = 256, non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW sessions_rollup_days_mv TO sessions_rollup_days AS
SELECT
    property_id,
    dim,
    span,
    toDateTime(intDiv(toUInt32(hour), 86400 * span) * 86400 * span, 'UTC') AS day,
    is_bot,
    value,
    uniqCombined64MergeState(19)(visitors) AS visitors,
    sum(visits) AS visits,
    sum(bounces) AS bounces,
    sum(duration) AS duration,
    sum(pageviews) AS pageviews,
    sum(events) AS events
FROM sessions_rollup
ARRAY JOIN [1, 2, 4, 8, 16, 32, 64] AS span
GROUP BY property_id, dim, span, day, is_bot, value;

INSERT INTO sessions_rollup
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(opened_at) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombined64StateIf(19)(client_id, sign > 0) AS visitors,
    sum(toInt64(sign)) AS visits,
    sum(sign * toInt64(is_bounce)) AS bounces,
    sum(sign * toInt64(duration)) AS duration,
    sum(sign * toInt64(pageviews)) AS pageviews,
    sum(sign * toInt64(events)) AS events
FROM session_log
ARRAY JOIN [
    ('', ''),
    ('visit:entry_page', entry_page),
    ('visit:exit_page', exit_page),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:channel', toString(channel)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', toString(utm_medium)),
    ('visit:utm_campaign', utm_campaign),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country))
] AS pair
GROUP BY property_id, dim, hour, is_bot, value;

CREATE MATERIALIZED VIEW sessions_rollup_mv TO sessions_rollup AS
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(opened_at) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombined64StateIf(19)(client_id, sign > 0) AS visitors,
    sum(toInt64(sign)) AS visits,
    sum(sign * toInt64(is_bounce)) AS bounces,
    sum(sign * toInt64(duration)) AS duration,
    sum(sign * toInt64(pageviews)) AS pageviews,
    sum(sign * toInt64(events)) AS events
FROM session_log
ARRAY JOIN [
    ('', ''),
    ('visit:entry_page', entry_page),
    ('visit:exit_page', exit_page),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:channel', toString(channel)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', toString(utm_medium)),
    ('visit:utm_campaign', utm_campaign),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country))
] AS pair
GROUP BY property_id, dim, hour, is_bot, value;
