-- Nothing is kept forever (issue #17). Every table forgets rows older than the compliance period
-- (ARCHIVE_RETENTION_DAYS, 730 by default, when the archive's lifecycle deletes them too), and
-- `events` forgets the raw user agent after RAW_USER_AGENT_DAYS (30 by default; the bot audit's
-- window), keeping the parsed browser, OS and device. Hot retention drops `events` days far sooner,
-- but only once the warehouse holds them (consumers/warehouse-quality.ts); these TTLs are the
-- backstop at the full period, so they never take what the warehouse has not loaded. A span
-- rollup's row covers `span` days from `day`: it goes when its last day is past the period.
-- TTLs are constants in SQL: the Cron Trigger (consumers/privacy-retention.ts) re-issues these
-- statements with the configured days when they differ (core/privacy/ttl.ts).
ALTER TABLE events MODIFY TTL toDateTime(event_timestamp) + INTERVAL 730 DAY;
ALTER TABLE events MODIFY COLUMN user_agent TTL toDateTime(event_timestamp) + INTERVAL 30 DAY;
ALTER TABLE sessions MODIFY TTL toDateTime(opened_at) + INTERVAL 730 DAY;
ALTER TABLE session_log MODIFY TTL toDateTime(opened_at) + INTERVAL 730 DAY;
ALTER TABLE events_rollup MODIFY TTL hour + INTERVAL 730 DAY;
ALTER TABLE sessions_rollup MODIFY TTL hour + INTERVAL 730 DAY;
ALTER TABLE events_rollup_days MODIFY TTL addDays(day, span) + INTERVAL 730 DAY;
ALTER TABLE sessions_rollup_days MODIFY TTL addDays(day, span) + INTERVAL 730 DAY;
