-- The "aggregations" table of our spec, as two hourly rollups (issue #5). Each source row is
-- counted once per rollup dimension (ARRAY JOIN), plus once under dim = '' for totals, so a query
-- with at most one non-time dimension reads one slice: `WHERE dim = …`. Unique counts are
-- uniqCombined states: merged, they give exactly what uniqCombined gives over the raw rows.
-- The dimension lists must equal core/query-plan.ts EVENT_/SESSION_ROLLUP_DIMENSIONS (tested).
CREATE TABLE IF NOT EXISTS events_rollup
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    hour DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined, String),
    visits AggregateFunction(uniqCombined, String),
    pageviews SimpleAggregateFunction(sum, UInt64),
    events SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value);

-- Rows stored before this migration enter the rollup once, before the view exists (and only into
-- an empty rollup, so a re-run adds nothing).
INSERT INTO events_rollup
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedState(client_id) AS visitors,
    uniqCombinedState(session_id) AS visits,
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
WHERE (SELECT count() FROM events_rollup) = 0
GROUP BY property_id, dim, hour, is_bot, value;

CREATE MATERIALIZED VIEW IF NOT EXISTS events_rollup_mv TO events_rollup AS
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedState(client_id) AS visitors,
    uniqCombinedState(session_id) AS visits,
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

-- Sessions change as events arrive; session_log carries each change as the old row (sign -1) and
-- the new (sign +1), so sums of sign-weighted values equal what `sessions FINAL` holds.
CREATE TABLE IF NOT EXISTS sessions_rollup
(
    property_id LowCardinality(String),
    dim LowCardinality(String),
    hour DateTime('UTC'),
    is_bot Bool,
    value String,
    visitors AggregateFunction(uniqCombined, String),
    visits SimpleAggregateFunction(sum, Int64),
    bounces SimpleAggregateFunction(sum, Int64),
    duration SimpleAggregateFunction(sum, Int64),
    pageviews SimpleAggregateFunction(sum, Int64),
    events SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (property_id, dim, hour, is_bot, value);

-- Rows stored before this migration enter the rollup once, before the view exists (and only into
-- an empty rollup, so a re-run adds nothing).
INSERT INTO sessions_rollup
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(opened_at) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedStateIf(client_id, sign > 0) AS visitors,
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
WHERE (SELECT count() FROM sessions_rollup) = 0
GROUP BY property_id, dim, hour, is_bot, value;

CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_rollup_mv TO sessions_rollup AS
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(opened_at) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedStateIf(client_id, sign > 0) AS visitors,
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
