-- The scheduled aggregates (issue #16), rebuilt by their jobs from `events` and `sessions`.
-- Columns must equal core/warehouse/schema.ts (contract test).
--
-- daily_metrics / weekly_reports / monthly_reports: one row per property, period, dimension and
-- value (dimension '' and value '' for the period's totals). Visitors are exact distinct counts
-- within the period; a longer range cannot sum them (a visitor of two days is one visitor), the
-- other counts it can. Dimensions: core/warehouse/schema.ts AGGREGATE_DIMENSIONS.
CREATE TABLE IF NOT EXISTS daily_metrics
(
    property_id VARCHAR(256) NOT NULL,
    day DATE NOT NULL,
    dimension VARCHAR(64) NOT NULL,
    value VARCHAR(8192) NOT NULL,
    visitors BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    pageviews BIGINT NOT NULL,
    events BIGINT NOT NULL,
    bounces BIGINT NOT NULL,
    duration_seconds BIGINT NOT NULL
);

-- target: postgres
CREATE INDEX IF NOT EXISTS daily_metrics_key ON daily_metrics (property_id, day, dimension);

CREATE TABLE IF NOT EXISTS weekly_reports
(
    property_id VARCHAR(256) NOT NULL,
    week_start DATE NOT NULL,
    dimension VARCHAR(64) NOT NULL,
    value VARCHAR(8192) NOT NULL,
    visitors BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    pageviews BIGINT NOT NULL,
    events BIGINT NOT NULL,
    bounces BIGINT NOT NULL,
    duration_seconds BIGINT NOT NULL
);

-- target: postgres
CREATE INDEX IF NOT EXISTS weekly_reports_key ON weekly_reports (property_id, week_start, dimension);

CREATE TABLE IF NOT EXISTS monthly_reports
(
    property_id VARCHAR(256) NOT NULL,
    month_start DATE NOT NULL,
    dimension VARCHAR(64) NOT NULL,
    value VARCHAR(8192) NOT NULL,
    visitors BIGINT NOT NULL,
    visits BIGINT NOT NULL,
    pageviews BIGINT NOT NULL,
    events BIGINT NOT NULL,
    bounces BIGINT NOT NULL,
    duration_seconds BIGINT NOT NULL
);

-- target: postgres
CREATE INDEX IF NOT EXISTS monthly_reports_key ON monthly_reports (property_id, month_start, dimension);

-- Weekly cohorts: visitors first seen in the week `cohort_week` (UTC, Monday), and how many of
-- them came back in each later week (`week_offset` 0 is the cohort itself).
CREATE TABLE IF NOT EXISTS user_cohorts
(
    property_id VARCHAR(256) NOT NULL,
    cohort_week DATE NOT NULL,
    week_offset INTEGER NOT NULL,
    visitors BIGINT NOT NULL
);

-- target: postgres
CREATE INDEX IF NOT EXISTS user_cohorts_key ON user_cohorts (property_id, cohort_week);

-- Each saved funnel per day: visitors who reached each step in order within the day.
CREATE TABLE IF NOT EXISTS conversion_funnels
(
    property_id VARCHAR(256) NOT NULL,
    funnel_id VARCHAR(256) NOT NULL,
    day DATE NOT NULL,
    step INTEGER NOT NULL,
    step_name VARCHAR(1024) NOT NULL,
    visitors BIGINT NOT NULL
);

-- target: postgres
CREATE INDEX IF NOT EXISTS conversion_funnels_key ON conversion_funnels (property_id, funnel_id, day);
