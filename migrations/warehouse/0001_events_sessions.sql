-- The warehouse's copy of the event log and its sessions (issue #16), loaded hour by hour from the
-- Parquet archive (the truth) by the load job; ClickHouse keeps only HOT_RETENTION_DAYS of them.
-- Portable SQL for PostgreSQL (the embedded dev and test server) and Redshift: statements marked
-- `-- target:` run on that engine only. Columns must equal core/warehouse/schema.ts (contract test).
-- Lengths are in bytes on Redshift and characters on PostgreSQL: 4 bytes for each character the
-- event schema (core/event.ts) allows. Time is UTC, in TIMESTAMP (without time zone) on both.
-- The custom maps are JSON text: JSON_EXTRACT_PATH_TEXT reads them on both engines.
-- target: postgres
CREATE TABLE IF NOT EXISTS events
(
    event_id VARCHAR(256) NOT NULL,
    property_id VARCHAR(256) NOT NULL,
    client_id VARCHAR(512) NOT NULL,
    user_id VARCHAR(1024) NOT NULL,
    session_id VARCHAR(256) NOT NULL,
    event_type VARCHAR(480) NOT NULL,
    event_timestamp TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    page_url VARCHAR(8192) NOT NULL,
    page_title VARCHAR(2048) NOT NULL,
    referrer VARCHAR(8192) NOT NULL,
    user_agent VARCHAR(2048) NOT NULL,
    screen_resolution VARCHAR(32) NOT NULL,
    viewport_size VARCHAR(32) NOT NULL,
    language VARCHAR(64) NOT NULL,
    custom_dimensions JSON NOT NULL,
    custom_metrics JSON NOT NULL,
    visitor_id_source VARCHAR(16) NOT NULL,
    source_protocol VARCHAR(32) NOT NULL,
    interactive BOOLEAN NOT NULL,
    browser VARCHAR(1024) NOT NULL,
    browser_version VARCHAR(1024) NOT NULL,
    os VARCHAR(1024) NOT NULL,
    os_version VARCHAR(1024) NOT NULL,
    device_type VARCHAR(32) NOT NULL,
    country VARCHAR(1024) NOT NULL,
    region VARCHAR(1024) NOT NULL,
    city VARCHAR(1024) NOT NULL,
    continent VARCHAR(1024) NOT NULL,
    geo_timezone VARCHAR(1024) NOT NULL,
    asn BIGINT NOT NULL,
    page_host VARCHAR(1024) NOT NULL,
    page_path VARCHAR(8192) NOT NULL,
    utm_source VARCHAR(1024) NOT NULL,
    utm_medium VARCHAR(1024) NOT NULL,
    utm_campaign VARCHAR(1024) NOT NULL,
    utm_term VARCHAR(1024) NOT NULL,
    utm_content VARCHAR(1024) NOT NULL,
    click_id_type VARCHAR(1024) NOT NULL,
    referrer_host VARCHAR(1024) NOT NULL,
    source VARCHAR(1024) NOT NULL,
    channel VARCHAR(64) NOT NULL,
    ip_prefix VARCHAR(256) NOT NULL,
    is_bot BOOLEAN NOT NULL,
    bot_reason VARCHAR(64) NOT NULL
);

-- Redshift: the same columns; the maps as text (no JSON type), rows spread by session so the
-- events ⋈ sessions join is local, sorted for the planner's one access path (property, time).
-- target: redshift
CREATE TABLE IF NOT EXISTS events
(
    event_id VARCHAR(256) NOT NULL,
    property_id VARCHAR(256) NOT NULL,
    client_id VARCHAR(512) NOT NULL,
    user_id VARCHAR(1024) NOT NULL,
    session_id VARCHAR(256) NOT NULL,
    event_type VARCHAR(480) NOT NULL,
    event_timestamp TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    page_url VARCHAR(8192) NOT NULL,
    page_title VARCHAR(2048) NOT NULL,
    referrer VARCHAR(8192) NOT NULL,
    user_agent VARCHAR(2048) NOT NULL,
    screen_resolution VARCHAR(32) NOT NULL,
    viewport_size VARCHAR(32) NOT NULL,
    language VARCHAR(64) NOT NULL,
    custom_dimensions VARCHAR(65535) NOT NULL,
    custom_metrics VARCHAR(65535) NOT NULL,
    visitor_id_source VARCHAR(16) NOT NULL,
    source_protocol VARCHAR(32) NOT NULL,
    interactive BOOLEAN NOT NULL,
    browser VARCHAR(1024) NOT NULL,
    browser_version VARCHAR(1024) NOT NULL,
    os VARCHAR(1024) NOT NULL,
    os_version VARCHAR(1024) NOT NULL,
    device_type VARCHAR(32) NOT NULL,
    country VARCHAR(1024) NOT NULL,
    region VARCHAR(1024) NOT NULL,
    city VARCHAR(1024) NOT NULL,
    continent VARCHAR(1024) NOT NULL,
    geo_timezone VARCHAR(1024) NOT NULL,
    asn BIGINT NOT NULL,
    page_host VARCHAR(1024) NOT NULL,
    page_path VARCHAR(8192) NOT NULL,
    utm_source VARCHAR(1024) NOT NULL,
    utm_medium VARCHAR(1024) NOT NULL,
    utm_campaign VARCHAR(1024) NOT NULL,
    utm_term VARCHAR(1024) NOT NULL,
    utm_content VARCHAR(1024) NOT NULL,
    click_id_type VARCHAR(1024) NOT NULL,
    referrer_host VARCHAR(1024) NOT NULL,
    source VARCHAR(1024) NOT NULL,
    channel VARCHAR(64) NOT NULL,
    ip_prefix VARCHAR(256) NOT NULL,
    is_bot BOOLEAN NOT NULL,
    bot_reason VARCHAR(64) NOT NULL
)
DISTSTYLE KEY DISTKEY (session_id)
COMPOUND SORTKEY (property_id, event_timestamp);

-- target: postgres
CREATE INDEX IF NOT EXISTS events_property_time ON events (property_id, event_timestamp);

-- target: postgres
CREATE INDEX IF NOT EXISTS events_session ON events (session_id);

-- One row per session, as the session reducer (core/session/session.ts) computes it from the
-- loaded events; the load job rewrites each session an hour touched, so a session crossing hours
-- is one row. Same columns as ClickHouse `sessions`.
CREATE TABLE IF NOT EXISTS sessions
(
    session_id VARCHAR(256) NOT NULL,
    property_id VARCHAR(256) NOT NULL,
    client_id VARCHAR(512) NOT NULL,
    opened_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP NOT NULL,
    last_event_at TIMESTAMP NOT NULL,
    pageviews BIGINT NOT NULL,
    events BIGINT NOT NULL,
    interactive_events BIGINT NOT NULL,
    is_bounce BOOLEAN NOT NULL,
    duration BIGINT NOT NULL,
    entry_page VARCHAR(8192) NOT NULL,
    exit_page VARCHAR(8192) NOT NULL,
    hostname VARCHAR(1024) NOT NULL,
    referrer_host VARCHAR(1024) NOT NULL,
    source VARCHAR(1024) NOT NULL,
    channel VARCHAR(64) NOT NULL,
    utm_source VARCHAR(1024) NOT NULL,
    utm_medium VARCHAR(1024) NOT NULL,
    utm_campaign VARCHAR(1024) NOT NULL,
    utm_term VARCHAR(1024) NOT NULL,
    utm_content VARCHAR(1024) NOT NULL,
    device_type VARCHAR(32) NOT NULL,
    browser VARCHAR(1024) NOT NULL,
    browser_version VARCHAR(1024) NOT NULL,
    os VARCHAR(1024) NOT NULL,
    os_version VARCHAR(1024) NOT NULL,
    screen_resolution VARCHAR(32) NOT NULL,
    language VARCHAR(64) NOT NULL,
    country VARCHAR(1024) NOT NULL,
    region VARCHAR(1024) NOT NULL,
    city VARCHAR(1024) NOT NULL,
    is_bot BOOLEAN NOT NULL,
    version BIGINT NOT NULL
);

-- target: postgres
CREATE UNIQUE INDEX IF NOT EXISTS sessions_id ON sessions (property_id, session_id);

-- target: postgres
CREATE INDEX IF NOT EXISTS sessions_property_time ON sessions (property_id, opened_at);
