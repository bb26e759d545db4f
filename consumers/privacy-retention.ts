/**
 * Privacy by default on a schedule (issue #17), from the Cron Trigger (consumers/scheduled.ts):
 * the archive's days past ARCHIVE_RETENTION_DAYS (core/privacy/archive-retention.ts), its raw user
 * agents past RAW_USER_AGENT_DAYS (core/privacy/raw-user-agent.ts), and
 * ClickHouse's TTLs brought to the configured days (core/privacy/ttl.ts). The warehouse's share
 * runs with its schedule (consumers/warehouse-retention.ts).
 */

import { plainTableRows } from "../core/clickhouse/cluster.ts";
import { type ArchiveRetentionReport, deleteExpiredArchiveDays } from "../core/privacy/archive-retention.ts";
import { expireRawUserAgents, type RawUserAgentReport } from "../core/privacy/raw-user-agent.ts";
import { TABLE_DDL_SQL, ttlChanges } from "../core/privacy/ttl.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";
import { clickHouseClient, clickHouseCommand } from "../platform/clickhouse.ts";
import { loadConfig } from "../platform/config.ts";
import { registryStub } from "../platform/properties.ts";
import { oldestArchivedHour } from "./warehouse-archive.ts";

/** Deletes the archive's days past the retention period until `deadline`; the next run resumes. */
export async function runArchiveRetention(env: Env, deadline: number): Promise<ArchiveRetentionReport> {
  const store = await archiveStore(env);
  const properties = (await registryStub(env).list()).map((p) => p.property_id);
  return deleteExpiredArchiveDays(store, properties, {
    now: Date.now,
    deadline,
    retentionDays: loadConfig(env).ARCHIVE_RETENTION_DAYS,
    start: () => oldestArchivedHour(store, properties),
  });
}

/** Passes the archive's due days until `deadline`; the next run resumes from the saved progress. */
export async function runRawUserAgentPass(env: Env, deadline: number): Promise<RawUserAgentReport> {
  const store = await archiveStore(env);
  const properties = (await registryStub(env).list()).map((p) => p.property_id);
  return expireRawUserAgents(store, zstdCodec, properties, {
    now: Date.now,
    deadline,
    rawUserAgentDays: loadConfig(env).RAW_USER_AGENT_DAYS,
    start: () => oldestArchivedHour(store, properties),
  });
}

/**
 * Re-issues the ClickHouse TTLs whose days differ from the configuration (none after the first
 * run with a given configuration: each MODIFY TTL rewrites the table's parts). On a cluster the
 * TTLs live on the `_local` tables (read here under their plain names) and each change runs
 * ON CLUSTER (clickHouseCommand). Returns the statements as built (before the cluster rewrite).
 */
export async function applyClickHouseTtls(env: Env): Promise<string[]> {
  const config = loadConfig(env);
  const client = clickHouseClient(config);
  const tables = await (await client.query({ query: TABLE_DDL_SQL, format: "JSONEachRow" })).json<{
    name: string;
    create_table_query: string;
  }>();
  const changes = ttlChanges(plainTableRows(config.CLICKHOUSE_CLUSTER, tables), {
    rows: config.ARCHIVE_RETENTION_DAYS,
    rawUserAgent: config.RAW_USER_AGENT_DAYS,
  });
  for (const change of changes) await clickHouseCommand(config, { sql: change.sql });
  return changes.map((c) => c.sql);
}
