/**
 * Where the ClickHouse migrations run (issue #19): one server (`single`, development and small
 * installs), a self-managed cluster (`cluster`: Replicated tables ON CLUSTER behind Distributed ones)
 * or ClickHouse Cloud (`cloud`: the SharedMergeTree family). The one place that says how each table
 * spreads over a cluster: its `_local` name and its Distributed sharding key.
 */

import { z } from "zod";
import type { ClusterTable } from "../core/clickhouse/cluster.ts";

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const TOPOLOGY_KINDS = ["single", "cluster", "cloud"] as const;

export const TopologySchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("single") }),
  z.object({ kind: z.literal("cloud") }),
  z.object({
    kind: z.literal("cluster"),
    /** Written into DDL (`ON CLUSTER`, `Distributed(…)`), so an identifier. */
    cluster: z.string().regex(IDENTIFIER, "must be an identifier"),
    /** The database the Distributed tables point at on every shard (CLICKHOUSE_DATABASE). */
    database: z.string().regex(IDENTIFIER, "must be an identifier"),
  }),
]);
export type Topology = z.infer<typeof TopologySchema>;

/** The cluster name `--print --target cluster` uses when none is given. */
export const DEFAULT_CLUSTER = "tally";

/**
 * A table's shard-local name on a cluster. Fixed: the Worker's DELETE and ALTER rewrites
 * (runtime cluster mode) address `<table>_local` ON CLUSTER by this convention.
 */
export function localTable(table: string): string {
  return `${table}_local`;
}

/**
 * The Distributed sharding key of every table. Each is deterministic, so a retried insert splits
 * the same way and each shard drops its part by the insert's deduplication token (a random key
 * would send the retry's rows elsewhere and store them twice).
 * - events, session_log, sessions by visitor: all of a session's versions and its log rows meet on
 *   one shard, as `sessions FINAL` and the view sessions_from_log (run on the local tables) need.
 * - the rollups: their materialized views write on whichever shard the source rows are, so no
 *   shard ever holds all of a key's rows and reads merge states across shards anyway; the key only
 *   spreads direct inserts (backfills, erasure and span rewrites) evenly. Never route a query by
 *   it (optimize_skip_unused_shards would miss rows).
 * - ops_metrics by series: summed at read time, any deterministic spread is right.
 * - alerts by the ReplacingMergeTree key, so an alert's versions replace each other on one shard.
 */
export const SHARDING_KEYS: Readonly<Record<ClusterTable, string>> = {
  events: "cityHash64(client_id)",
  session_log: "cityHash64(client_id)",
  sessions: "cityHash64(client_id)",
  events_rollup: "cityHash64(property_id, dim, value)",
  events_rollup_days: "cityHash64(property_id, dim, value)",
  sessions_rollup: "cityHash64(property_id, dim, value)",
  sessions_rollup_days: "cityHash64(property_id, dim, value)",
  ops_metrics: "cityHash64(name, labels)",
  alerts: "cityHash64(property_id, alert_id)",
};

/** A table's sharding key, or undefined for a table the Worker does not know (CLUSTER_TABLES). */
export function shardingKeyOf(table: string): string | undefined {
  return Object.hasOwn(SHARDING_KEYS, table) ? SHARDING_KEYS[table as ClusterTable] : undefined;
}

/** The replication path of a table's shard: its replicas share it, other shards have their own. */
export function replicaPath(table: string): string {
  return `/clickhouse/tables/{shard}/{database}/${table}`;
}

/** What the migrate CLI was asked for; undefined fields fall back to the environment. */
export interface TopologyChoice {
  target?: string;
  cluster?: string;
  database?: string;
}

/**
 * The topology from `--target`/`--cluster`/`--database`, else CLICKHOUSE_TARGET, CLICKHOUSE_CLUSTER
 * and CLICKHOUSE_DATABASE: `cluster` when a cluster is named, else `single`. `defaultCluster` names
 * one when none is set (printing needs no real cluster; applying does).
 */
export function chooseTopology(
  choice: TopologyChoice,
  env: Record<string, string | undefined>,
  defaultCluster?: string,
): Topology {
  const cluster = choice.cluster ?? (env.CLICKHOUSE_CLUSTER || undefined);
  const kind = choice.target ?? (env.CLICKHOUSE_TARGET || (cluster ? "cluster" : "single"));
  if (!(TOPOLOGY_KINDS as readonly string[]).includes(kind))
    throw new Error(`unknown ClickHouse target "${kind}": one of ${TOPOLOGY_KINDS.join(", ")}`);
  if (kind !== "cluster") {
    if (choice.cluster !== undefined) throw new Error(`--cluster applies to --target cluster only, not ${kind}`);
    return TopologySchema.parse({ kind });
  }
  const name = cluster ?? defaultCluster;
  if (name === undefined) throw new Error("target cluster needs a cluster name: --cluster NAME or CLICKHOUSE_CLUSTER");
  const parsed = TopologySchema.safeParse({
    kind,
    cluster: name,
    database: choice.database ?? (env.CLICKHOUSE_DATABASE || "default"),
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}

/**
 * The migrator's ledger. On a cluster it is one ReplicatedMergeTree for every node: a path without
 * `{shard}` (all nodes are replicas of it) and a replica name unique across shards, so a run
 * through any node sees what every earlier run did.
 */
export function ledgerStatements(topology: Topology): string[] {
  if (topology.kind === "single")
    return [
      `CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
      `CREATE TABLE IF NOT EXISTS schema_migration_steps
      (version UInt32, step UInt32, checksum String, done_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY (version, step)`,
    ];
  const engine = (table: string) =>
    topology.kind === "cloud"
      ? "SharedMergeTree"
      : `ReplicatedMergeTree('/clickhouse/tables/{database}/${table}', '{shard}_{replica}')`;
  const on = topology.kind === "cluster" ? ` ON CLUSTER '${topology.cluster}'` : "";
  return [
    `CREATE TABLE IF NOT EXISTS schema_migrations${on}
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ${engine("schema_migrations")} ORDER BY version`,
    `CREATE TABLE IF NOT EXISTS schema_migration_steps${on}
      (version UInt32, step UInt32, checksum String, done_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = ${engine("schema_migration_steps")} ORDER BY (version, step)`,
  ];
}
