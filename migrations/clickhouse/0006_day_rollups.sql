-- Day-block rollups and cheaper sketches (issue #5: overview p95 ≤ 150 ms on 10M events / 30 days).
-- Measured on the bench data: merging 720 hourly precision-17 states per page cost ~500 ms; the
-- cost is the states' deserialisation and register merges, so fewer states and fewer registers
-- are what help. Unique counts now come at two precisions, as GA4 counts them (HLL++ 14 for
-- users, 12 for sessions):
--   *_p14: headline figures — totals and time series (rows with dim = ''), σ ≈ 0.8%;
--   *_p12: breakdowns and filtered figures (dim ≠ ''), σ ≈ 1.6%, exact below ~100.
-- core/query-plan.ts sketchPrecision() picks one per query, for rollups and raw tables alike, so
-- a rollup answers exactly what the raw tables answer.
--
-- `*_rollup_days` hold each row once per span of 1, 2, 4 … 64 UTC days, in blocks aligned to the
-- Unix epoch (core/rollup-spans.ts), so any run of whole days is a handful of blocks: 30 days are
-- at most 8 states per value instead of 720 hours. They are fed from the hourly tables. Small
-- granules (256 rows) because a query reads one thin slice (property, dimension, blocks).
--
-- The rollups are projections of events/session_log: they are dropped and rebuilt here. Rows
-- stored between the backfill and the views' creation would be missed: run migrations before the
-- consumers, as `npm run dev` does.
DROP VIEW IF EXISTS events_rollup_mv;
DROP VIEW IF EXISTS sessions_rollup_mv;
DROP TABLE IF EXISTS events_rollup;
DROP TABLE IF EXISTS sessions_rollup;

CREATE TABLE events_rollup
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    hour DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors_p14 AggregateFunction(uniqCombined(14), String),
    visitors_p12 AggregateFunction(uniqCombined(12), String),
    visits_p12 AggregateFunction(uniqCombined(12), String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value)
SETTINGS index_granularity = 256;

CREATE TABLE events_rollup_days
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    span UInt8,
    day DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors_p14 AggregateFunction(uniqCombined(14), String),
    visitors_p12 AggregateFunction(uniqCombined(12), String),
    visits_p12 AggregateFunction(uniqCombined(12), String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (property_id, dim, span, day, is_bot, value)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW events_rollup_days_mv TO events_rollup_days AS
SELECT
    property_id,
    dim,
    span,
    toDateTime(intDiv(toUInt32(hour), 86400 * span) * 86400 * span, 'UTC') AS day,
    is_bot,
    value,
    uniqCombinedMergeState(14)(visitors_p14) AS visitors_p14,
    uniqCombinedMergeState(12)(visitors_p12) AS visitors_p12,
    uniqCombinedMergeState(12)(visits_p12) AS visits_p12,
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
    uniqCombinedStateIf(14)(client_id, dim = '') AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, dim != '') AS visitors_p12,
    uniqCombinedStateIf(12)(session_id, dim != '') AS visits_p12,
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
    uniqCombinedStateIf(14)(client_id, dim = '') AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, dim != '') AS visitors_p12,
    uniqCombinedStateIf(12)(session_id, dim != '') AS visits_p12,
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
    visitors_p14 AggregateFunction(uniqCombined(14), String),
    visitors_p12 AggregateFunction(uniqCombined(12), String),
    visits SimpleAggregateFunction(sum, Int64),
    bounces SimpleAggregateFunction(sum, Int64),
    duration SimpleAggregateFunction(sum, Int64),
    pageviews SimpleAggregateFunction(sum, Int64),
    events SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value)
SETTINGS index_granularity = 256;

CREATE TABLE sessions_rollup_days
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    span UInt8,
    day DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors_p14 AggregateFunction(uniqCombined(14), String),
    visitors_p12 AggregateFunction(uniqCombined(12), String),
    visits SimpleAggregateFunction(sum, Int64),
    bounces SimpleAggregateFunction(sum, Int64),
    duration SimpleAggregateFunction(sum, Int64),
    pageviews SimpleAggregateFunction(sum, Int64),
    events SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (property_id, dim, span, day, is_bot, value)
SETTINGS index_granularity = 256;

CREATE MATERIALIZED VIEW sessions_rollup_days_mv TO sessions_rollup_days AS
SELECT
    property_id,
    dim,
    span,
    toDateTime(intDiv(toUInt32(hour), 86400 * span) * 86400 * span, 'UTC') AS day,
    is_bot,
    value,
    uniqCombinedMergeState(14)(visitors_p14) AS visitors_p14,
    uniqCombinedMergeState(12)(visitors_p12) AS visitors_p12,
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
    uniqCombinedStateIf(14)(client_id, sign > 0 AND dim = '') AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, sign > 0 AND dim != '') AS visitors_p12,
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
    uniqCombinedStateIf(14)(client_id, sign > 0 AND dim = '') AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, sign > 0 AND dim != '') AS visitors_p12,
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
