-- The ids' 64-bit hashes, stored (issue #20). Raw questions group visitors (funnels, retention) and
-- semi-join sessions (a filter on a dimension the leg's table lacks) by cityHash64 of the ids; read
-- from these columns, 8 bytes a row replace ~37-byte strings decompressed and hashed on every
-- query: ~20–25% off those statements on the bench data (10M events), for ~50 MB per column there.
-- MATERIALIZED: computed on insert, never sent by a writer, left out of `SELECT *`. The
-- MATERIALIZE COLUMN mutations write them into the parts already stored; until a part's mutation is
-- done, reads compute the column from the id, so answers never depend on it.
-- core/query/columns.ts HASH_COLUMNS names them (contract test).
ALTER TABLE events
    ADD COLUMN IF NOT EXISTS visitor_hash UInt64 MATERIALIZED cityHash64(client_id),
    ADD COLUMN IF NOT EXISTS session_hash UInt64 MATERIALIZED cityHash64(session_id);
ALTER TABLE sessions
    ADD COLUMN IF NOT EXISTS session_hash UInt64 MATERIALIZED cityHash64(session_id);
ALTER TABLE events MATERIALIZE COLUMN visitor_hash;
ALTER TABLE events MATERIALIZE COLUMN session_hash;
ALTER TABLE sessions MATERIALIZE COLUMN session_hash;
