/**
 * Tally's runtime ClickHouse statements on a self-managed cluster (CLICKHOUSE_CLUSTER), pure. The
 * migrations make each table `<name>_local` (Replicated*MergeTree, ON CLUSTER) behind a Distributed
 * `<name>`: SELECT and INSERT keep the plain names, but a lightweight DELETE or an ALTER does not
 * work on a Distributed table, so it runs as `… <name>_local ON CLUSTER <cluster> …`. With no
 * cluster (one server, ClickHouse Cloud) every statement stays exactly as it is.
 *
 * Only the shapes our builders produce are rewritten, for tables of CLUSTER_TABLES; anything else
 * throws rather than run something wrong on a Distributed table. Query parameters may stay in
 * ON CLUSTER statements: the server that receives the statement substitutes them (as literals, in
 * its parsed query) before it queues the statement for the other hosts — the engine test shows it.
 *
 * Cost: a lightweight `DELETE … ON CLUSTER` runs on every replica, not once per shard (each
 * replica masks its own copy of the rows), so an erasure does R× the work of one server with R
 * replicas per shard. Still cheaper than `ALTER … DELETE`, which replicates once but rewrites
 * every part it touches whole.
 */

/** Every table a runtime statement may name: on a cluster, each is `<name>_local` behind a Distributed `<name>`. */
export const CLUSTER_TABLES = [
  "events",
  "session_log",
  "sessions",
  "events_rollup",
  "sessions_rollup",
  "events_rollup_days",
  "sessions_rollup_days",
  "alerts",
  "ops_metrics",
] as const;
export type ClusterTable = (typeof CLUSTER_TABLES)[number];

export const LOCAL_SUFFIX = "_local";

/** As core/config.ts takes CLICKHOUSE_CLUSTER: an identifier, since it is written into DDL. */
const CLUSTER_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isClusterTable = (name: string): name is ClusterTable => (CLUSTER_TABLES as readonly string[]).includes(name);

/** The cluster name, checked; "" means no cluster. */
export function checkedCluster(cluster: string): string {
  if (cluster !== "" && !CLUSTER_NAME.test(cluster)) throw new Error(`not a cluster name: ${JSON.stringify(cluster)}`);
  return cluster;
}

function table(name: string, sql: string): ClusterTable {
  if (!isClusterTable(name)) throw new Error(`cluster statements: ${name} is not one of Tally's tables (${sql})`);
  return name;
}

/** What an ALTER may do on a cluster: the retention TTLs, hot retention's DROP PARTITION, mutations. */
const ALTER_COMMAND =
  /^(?:MODIFY TTL |MODIFY COLUMN [a-z_]+ TTL |DROP PARTITION \d{8}$|DELETE WHERE |UPDATE [a-z_]+ = )/;

/** The kinds of runtime statement: where it goes on a cluster. */
export type StatementKind = "mutation" | "insert_select";

interface Shape {
  kind: StatementKind;
  pattern: RegExp;
  /** The statement for the cluster, from the pattern's groups (table, rest). */
  rewrite: (t: ClusterTable, rest: string, cluster: string) => string;
}

const SHAPES: readonly Shape[] = [
  {
    kind: "mutation",
    pattern: /^DELETE FROM ([a-z_]+) (WHERE .+)$/s,
    rewrite: (t, rest, c) => `DELETE FROM ${t}${LOCAL_SUFFIX} ON CLUSTER ${c} ${rest}`,
  },
  {
    kind: "mutation",
    pattern: /^ALTER TABLE ([a-z_]+) (.+)$/s,
    rewrite: (t, rest, c) => {
      if (!ALTER_COMMAND.test(rest)) throw new Error(`cluster statements: an ALTER Tally does not run: ${rest}`);
      return `ALTER TABLE ${t}${LOCAL_SUFFIX} ON CLUSTER ${c} ${rest}`;
    },
  },
  {
    // An INSERT … SELECT stays on the Distributed tables: it reads every shard and writes through
    // the sharding key (clusterStatementSettings makes that write synchronous).
    kind: "insert_select",
    pattern: /^INSERT INTO ([a-z_]+) ((?:SETTINGS [a-z_]+ = \d+ )?SELECT\s.+)$/s,
    rewrite: (t, rest) => `INSERT INTO ${t} ${rest}`,
  },
];

function shapeOf(sql: string): { shape: Shape; table: ClusterTable; rest: string } {
  // One statement, never one that names a cluster or a local table already, nor a mutation with a
  // subquery (it would read the Distributed tables once per host).
  if (sql.includes(";") || /\bON CLUSTER\b/i.test(sql) || sql.includes(LOCAL_SUFFIX))
    throw new Error(`cluster statements: not one of Tally's runtime statements: ${sql}`);
  for (const shape of SHAPES) {
    const m = shape.pattern.exec(sql);
    if (!m) continue;
    const rest = m[2] ?? "";
    if (shape.kind === "mutation" && /\bSELECT\b/i.test(rest))
      throw new Error(`cluster statements: a mutation with a subquery: ${sql}`);
    return { shape, table: table(m[1] ?? "", sql), rest };
  }
  throw new Error(`cluster statements: a statement shape Tally does not know: ${sql}`);
}

/** What kind of statement this is (throws for a shape Tally does not run). */
export function statementKind(sql: string): StatementKind {
  return shapeOf(sql).shape.kind;
}

/**
 * One of our runtime statements (not a plain SELECT or a client insert) as it must run: unchanged
 * with no cluster; on a cluster a DELETE or ALTER goes to `<table>_local ON CLUSTER <cluster>`.
 * Throws for a shape or table it does not know.
 */
export function forCluster(cluster: string, sql: string): string {
  if (checkedCluster(cluster) === "") return sql;
  const { shape, table: t, rest } = shapeOf(sql);
  return shape.rewrite(t, rest, cluster);
}

/**
 * Settings an insert needs on a cluster: a foreground (synchronous) Distributed insert, so the
 * answer means every shard holds its rows, and a retry carries its insert_deduplication_token to
 * the same shards (a deterministic sharding key), where the replicated tables drop the repeat.
 * Without it the Distributed table answers once the rows are queued on its own disk and sends
 * them later, with no deduplication across that hand-off. Nothing with no cluster.
 */
export function clusterInsertSettings(cluster: string): { distributed_foreground_insert?: 1 } {
  return checkedCluster(cluster) === "" ? {} : { distributed_foreground_insert: 1 };
}

/**
 * Over HTTP an ON CLUSTER statement answers 200 with its headers, then streams one status row per
 * host as each finishes: a later host's failure would arrive after the client had taken the 200
 * as done. `wait_end_of_query` makes the server hold the answer until every host has reported, so
 * any failure is the statement's error (distributed_ddl_output_mode = throw, the default).
 */
export const ON_CLUSTER_SETTINGS = { wait_end_of_query: 1 } as const;

/**
 * Settings a runtime statement (forCluster's) needs on a cluster: an INSERT … SELECT's are an
 * insert's; a mutation, which runs ON CLUSTER, waits for every host's answer.
 */
export function clusterStatementSettings(
  cluster: string,
  sql: string,
): { distributed_foreground_insert?: 1; wait_end_of_query?: 1 } {
  if (checkedCluster(cluster) === "") return {};
  return statementKind(sql) === "insert_select" ? clusterInsertSettings(cluster) : { ...ON_CLUSTER_SETTINGS };
}

/**
 * Settings every query-API statement adds on a cluster. The builders' IN and JOIN subqueries read
 * `sessions`/`events` inside a query on `events`/`sessions`, all Distributed: ClickHouse refuses
 * that by default (Code 288, distributed_product_mode = 'deny'). `local` has each shard run the
 * subquery on its own `_local` table, which is exact because every such subquery (core/query
 * sql-filters.ts, sql-metrics.ts, sql.ts's events-sessions join, visitor-type.ts) matches on
 * session_id or client_id, and events, session_log and sessions all shard by
 * cityHash64(client_id) (migrations/clickhouse-topology.ts): a session's rows and a visitor's
 * sessions are all on one shard. The rollups (sharded otherwise) are never read in such a
 * subquery; the legs are joined only after each has been read from every shard.
 */
export function clusterQuerySettings(cluster: string): { distributed_product_mode?: "local" } {
  return checkedCluster(cluster) === "" ? {} : { distributed_product_mode: "local" };
}

/**
 * system.tables rows as the single-server code reads them: on a cluster, the `_local` tables (the
 * ones with a MergeTree engine and DDL worth reading) under their plain names; rows of any other
 * table are left out. Unchanged with no cluster.
 */
export function plainTableRows<T extends { name: string }>(cluster: string, rows: readonly T[]): T[] {
  if (checkedCluster(cluster) === "") return [...rows];
  return rows.flatMap((r) => {
    if (!r.name.endsWith(LOCAL_SUFFIX)) return [];
    const name = r.name.slice(0, -LOCAL_SUFFIX.length);
    return isClusterTable(name) ? [{ ...r, name }] : [];
  });
}

/**
 * The partitions `events` has (rows `{ partition }`): with no cluster, `singleServerSql`
 * (core/warehouse/retention.ts EVENT_PARTITIONS_SQL); on a cluster, those of `events_local` on
 * every replica (system.parts is each server's own).
 */
export function eventPartitionsStatement(
  cluster: string,
  database: string,
  singleServerSql: string,
): { sql: string; params?: Record<string, string> } {
  if (checkedCluster(cluster) === "") return { sql: singleServerSql };
  return {
    sql: `SELECT DISTINCT partition FROM clusterAllReplicas({cluster:String}, system.parts) WHERE database = {database:String} AND table = 'events${LOCAL_SUFFIX}' AND active ORDER BY partition`,
    params: { cluster, database },
  };
}
