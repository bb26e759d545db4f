-- The batch jobs' ledger and the data-quality checks (issue #16). Every job run of a period is one
-- row, rewritten as it goes (running → done | failed): a job that finds its period done skips it,
-- one that finds it running or failed runs it again (each job replaces its period's rows, so a
-- re-run never doubles them). Columns must equal core/warehouse/schema.ts (contract test).
CREATE TABLE IF NOT EXISTS job_runs
(
    job VARCHAR(64) NOT NULL,
    period_start TIMESTAMP NOT NULL,
    period_end TIMESTAMP NOT NULL,
    status VARCHAR(16) NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    rows_written BIGINT NOT NULL,
    detail VARCHAR(4096) NOT NULL
);

-- target: postgres
CREATE UNIQUE INDEX IF NOT EXISTS job_runs_period ON job_runs (job, period_start);

-- Per property and hour: how many events the archive, ClickHouse and the warehouse hold. `ok`
-- when the three agree (ClickHouse counts only while the hour is within its hot retention). Hot
-- retention drops an hour from ClickHouse only once its row here says the warehouse has it all.
CREATE TABLE IF NOT EXISTS data_quality
(
    property_id VARCHAR(256) NOT NULL,
    hour TIMESTAMP NOT NULL,
    archive_events BIGINT NOT NULL,
    clickhouse_events BIGINT,
    warehouse_events BIGINT NOT NULL,
    ok BOOLEAN NOT NULL,
    checked_at TIMESTAMP NOT NULL
);

-- target: postgres
CREATE UNIQUE INDEX IF NOT EXISTS data_quality_hour ON data_quality (property_id, hour);
