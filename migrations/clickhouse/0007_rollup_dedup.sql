-- The rollups keep retried inserts out too (issue #14). A retried insert with the same
-- insert_deduplication_token is dropped by `events` and `session_log`, but ClickHouse still pushes
-- the block through their materialized views, and a non-replicated target deduplicates only within
-- its own non_replicated_deduplication_window, which is 0 (off) unless set: a redelivered batch
-- whose first insert had landed counted twice in every rollup-answered report. Measured on chDB
-- 26.7: with the window 0 a same-token retry doubles the view's target; with it set, it does not.
ALTER TABLE events_rollup MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE events_rollup_days MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE sessions_rollup MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE sessions_rollup_days MODIFY SETTING non_replicated_deduplication_window = 10000;
