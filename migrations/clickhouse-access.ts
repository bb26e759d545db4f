/**
 * The production ClickHouse users (README "Locked-down queries"), as SQL for a topology:
 * - `tally_query`, read-only (readonly = 2: it may send its own limits, never raise them past a
 *   profile MAX), for the query API (CLICKHOUSE_QUERY_USER);
 * - `tally_writer`, for the consumers, the migrations, erasures and the retention Cron Trigger
 *   (CLICKHOUSE_USER): inserts, reads, deletes and updates (lightweight DELETE is ALTER DELETE, so
 *   is DROP PARTITION), TTL, setting and column changes, tables and views; on the database only.
 * Passwords are never written: each user is created from the SHA-256 of its password, a
 * placeholder here, which the server refuses until it is replaced by 64 hex digits.
 */
import { ConfigSchema } from "../core/config.ts";
import type { Topology } from "./clickhouse-topology.ts";

export const QUERY_USER = "tally_query";
export const WRITER_USER = "tally_writer";
export const QUERY_PROFILE = "tally_query_limits";

/** The limits the query user's profile allows at most: the Worker sends these with every statement. */
export interface QueryLimits {
  maxExecutionSeconds: number;
  maxMemoryBytes: number;
  maxResultRows: number;
}

/** The Worker's defaults (core/config.ts QUERY_MAX_*): a profile MAX below them would refuse every query. */
export function defaultQueryLimits(): QueryLimits {
  const shape = ConfigSchema.shape;
  return {
    maxExecutionSeconds: shape.QUERY_MAX_EXECUTION_SECONDS.parse(undefined),
    maxMemoryBytes: shape.QUERY_MAX_MEMORY_BYTES.parse(undefined),
    maxResultRows: shape.QUERY_MAX_RESULT_ROWS.parse(undefined),
  };
}

export const WRITER_GRANTS = [
  "SELECT",
  "INSERT",
  "ALTER DELETE",
  "ALTER UPDATE",
  "ALTER TTL",
  "ALTER MATERIALIZE TTL",
  "ALTER SETTINGS",
  "ALTER ADD COLUMN",
  "ALTER MODIFY COLUMN",
  "CREATE TABLE",
  "CREATE VIEW",
  "DROP TABLE",
  "DROP VIEW",
] as const;

/** The placeholder each CREATE USER carries instead of a password hash. */
export function passwordPlaceholder(user: string): string {
  return `<sha256 hex of the ${user} password>`;
}

/**
 * CREATE/GRANT statements for both users in `database`. On a cluster each runs ON CLUSTER (the
 * Distributed tables pass the initial user to the shards, so it must exist on every node), and the
 * writer also gets the global CLUSTER grant servers ask of ON CLUSTER DDL
 * (access_control_improvements.on_cluster_queries_require_cluster_grant).
 */
export function accessStatements(topology: Topology, database: string, limits = defaultQueryLimits()): string[] {
  const on = topology.kind === "cluster" ? ` ON CLUSTER '${topology.cluster}'` : "";
  const grantOn = topology.kind === "cluster" ? `GRANT ON CLUSTER '${topology.cluster}'` : "GRANT";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`database ${database} must be an identifier`);
  const statements = [
    // The database first: migrations create their tables in it and do not create it themselves.
    `CREATE DATABASE IF NOT EXISTS ${database}${on}`,
    `CREATE SETTINGS PROFILE IF NOT EXISTS ${QUERY_PROFILE}${on} SETTINGS readonly = 2 CONST,
    max_execution_time = ${limits.maxExecutionSeconds} MAX ${limits.maxExecutionSeconds},
    max_memory_usage = ${limits.maxMemoryBytes} MAX ${limits.maxMemoryBytes},
    max_result_rows = ${limits.maxResultRows} MAX ${limits.maxResultRows},
    result_overflow_mode = 'throw' CONST`,
    `CREATE USER IF NOT EXISTS ${QUERY_USER}${on}
    IDENTIFIED WITH sha256_hash BY '${passwordPlaceholder(QUERY_USER)}'
    SETTINGS PROFILE '${QUERY_PROFILE}'`,
    `${grantOn} SELECT ON ${database}.* TO ${QUERY_USER}`,
    `CREATE USER IF NOT EXISTS ${WRITER_USER}${on}
    IDENTIFIED WITH sha256_hash BY '${passwordPlaceholder(WRITER_USER)}'`,
    `${grantOn} ${WRITER_GRANTS.join(", ")} ON ${database}.* TO ${WRITER_USER}`,
  ];
  // CLUSTER: its ON CLUSTER statements; REMOTE: hot retention lists partitions with clusterAllReplicas.
  if (topology.kind === "cluster") statements.push(`${grantOn} CLUSTER, REMOTE ON *.* TO ${WRITER_USER}`);
  return statements;
}
