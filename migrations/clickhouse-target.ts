/**
 * The migrator's ledger and statements on ClickHouse: one server (MergeTree ledger tables, as since
 * the first migration), a self-managed cluster or ClickHouse Cloud, each statement rendered for it
 * (clickhouse-render.ts).
 */
import { type ClickHouseClient, ClickHouseError, type ClickHouseSettings } from "@clickhouse/client-web";
import { ON_CLUSTER_SETTINGS } from "../core/clickhouse/cluster.ts";
import { renderStatement } from "./clickhouse-render.ts";
import { ledgerStatements, type Topology } from "./clickhouse-topology.ts";
import type { MigrationTarget } from "./migrator.ts";

/** ClickHouse's TABLE_ALREADY_EXISTS: also what a second CREATE of a view or dictionary answers. */
const ALREADY_EXISTS = "57";

/**
 * Settings of every statement the target runs: on a cluster each is ON CLUSTER (or a foreground
 * Distributed insert), whose per-host statuses stream after HTTP's 200, so a later host's failure
 * would go unseen and the step be recorded as done; `wait_end_of_query` holds the answer until
 * every host has reported (core/clickhouse/cluster.ts ON_CLUSTER_SETTINGS).
 */
export function statementSettings(topology: Topology): ClickHouseSettings {
  return topology.kind === "cluster" ? { ...ON_CLUSTER_SETTINGS } : {};
}

/**
 * Settings of the ledger reads: on replicated ledgers (cluster, Cloud) the replica answering must
 * have every recorded step, else a run right after another could read a lagging replica's ledger
 * and apply a destructive step again (0006 drops and re-creates the rollups). Cloud's
 * SharedMergeTree syncs the replica's metadata for it; a ReplicatedMergeTree ledger needs its
 * writes to be quorum inserts (ledgerWriteSettings), or it refuses to answer from a replica without them.
 */
export function ledgerReadSettings(topology: Topology): ClickHouseSettings {
  return topology.kind === "single" ? {} : { select_sequential_consistency: "1" };
}

/**
 * Settings of the ledger writes on a cluster: acknowledged by a majority of the ledger's replicas,
 * one at a time (select_sequential_consistency reads are consistent only with non-parallel quorum
 * writes; a second migrator writing at once is refused, which is right too).
 */
export function ledgerWriteSettings(topology: Topology): ClickHouseSettings {
  return topology.kind === "cluster" ? { insert_quorum: "auto", insert_quorum_parallel: 0 } : {};
}

export function clickHouseTarget(client: ClickHouseClient, topology: Topology = { kind: "single" }): MigrationTarget {
  const options = (settings: ClickHouseSettings) =>
    Object.keys(settings).length > 0 ? { clickhouse_settings: settings } : {};
  const running = options(statementSettings(topology));
  const reading = options(ledgerReadSettings(topology));
  const writing = options(ledgerWriteSettings(topology));
  const command = (query: string) => client.command({ query, ...running });
  return {
    dialect: "clickhouse",
    async prepareLedger() {
      for (const query of ledgerStatements(topology)) await command(query);
    },
    render: (statement) => renderStatement(statement, topology),
    async applied() {
      const result = await client.query({
        query: "SELECT version, name, checksum FROM schema_migrations",
        format: "JSONEachRow",
        ...reading,
      });
      return result.json<{ version: number; name: string; checksum: string }>();
    },
    async stepsDone(version, checksum) {
      const result = await client.query({
        query: "SELECT step FROM schema_migration_steps WHERE version = {v:UInt32} AND checksum = {c:String}",
        query_params: { v: version, c: checksum },
        format: "JSONEachRow",
        ...reading,
      });
      return new Set((await result.json<{ step: number }>()).map((r) => Number(r.step)));
    },
    /**
     * A CREATE whose object exists was run by an interrupted earlier attempt of this same statement
     * (migrations never change once applied), so it is done; any other failure stops the run.
     */
    async run(statement) {
      try {
        await command(statement);
      } catch (error) {
        const created = /^CREATE\b/i.test(statement);
        if (!(created && error instanceof ClickHouseError && error.code === ALREADY_EXISTS)) throw error;
      }
    },
    async recordStep(version, step, checksum) {
      await client.insert({
        table: "schema_migration_steps",
        values: [{ version, step, checksum }],
        format: "JSONEachRow",
        ...writing,
      });
    },
    async recordMigration({ version, name, checksum }) {
      await client.insert({
        table: "schema_migrations",
        values: [{ version, name, checksum }],
        format: "JSONEachRow",
        ...writing,
      });
    },
  };
}
