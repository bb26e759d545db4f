-- Goal conversions from the rollups (issue #20). A goal report ran one scan of `events` per goal
-- (4 goals: 40M rows, ~2 s on the bench data). Two more dimensions make a goal's figures a slice
-- of `events_rollup`, as every other one-dimension question is:
--   goal:pageview  pageviews by page path (a page goal counts pageviews only; `event:page` counts
--                  every event on the page);
--   goal:event     events by name.
-- A goal report states visitors at precision 14 (a headline figure, core/query/plan.ts
-- sketchPrecision), so these rows keep `visitors_p14`, as the totals (dim = '') do, and not
-- `visitors_p12`; `visits_p12` as every dimension. Merged, their states give exactly what
-- uniqCombined gives over the raw goal rows (test/integration/query-engine-rollups.test.ts).
-- The dimension lists must equal core/query/plan.ts EVENT_ROLLUP_DIMENSIONS and GOAL_ROLLUP_DIMENSIONS.
--
-- Existing events enter the new dimensions once (only while none are there: a re-run after a
-- failure adds nothing); the new view follows at once. The old view keeps every other dimension
-- current meanwhile; events stored during the backfill miss only the goal rows: run migrations
-- before the consumers, as `npm run dev` and docs/production.md do.
INSERT INTO events_rollup
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedState(14)(client_id) AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, false) AS visitors_p12,
    uniqCombinedState(12)(session_id) AS visits_p12,
    toUInt64(countIf(event_type = 'pageview')) AS pageviews,
    toUInt64(count()) AS events
FROM events
ARRAY JOIN arrayConcat(
    if(event_type = 'pageview', [('goal:pageview', page_path)], []),
    [('goal:event', toString(event_type))]
) AS pair
WHERE (SELECT count() FROM events_rollup WHERE dim = 'goal:event') = 0
GROUP BY property_id, dim, hour, is_bot, value;

DROP VIEW IF EXISTS events_rollup_mv;

CREATE MATERIALIZED VIEW events_rollup_mv TO events_rollup AS
SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedStateIf(14)(client_id, dim IN ('', 'goal:pageview', 'goal:event')) AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, dim NOT IN ('', 'goal:pageview', 'goal:event')) AS visitors_p12,
    uniqCombinedStateIf(12)(session_id, dim != '') AS visits_p12,
    toUInt64(countIf(event_type = 'pageview')) AS pageviews,
    toUInt64(count()) AS events
FROM events
ARRAY JOIN arrayConcat([
    ('', ''),
    ('event:page', page_path),
    ('event:name', toString(event_type)),
    ('event:hostname', toString(page_host)),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country)),
    ('goal:event', toString(event_type))
], if(event_type = 'pageview', [('goal:pageview', page_path)], [])) AS pair
GROUP BY property_id, dim, hour, is_bot, value;
