/**
 * The migrator's ledger and statements on ClickHouse: one server (MergeTree ledger tables, as since
 * the first migration), a self-managed cluster or ClickHouse Cloud, each statement rendered for it
 * (clickhouse-render.ts).
 */
import { type ClickHouseClient, ClickHouseError } from "@clickhouse/client-web";
import { renderStatement } from "./clickhouse-render.ts";
import { ledgerStatements, type Topology } from "./clickhouse-topology.ts";
import type { MigrationTarget } from "./migrator.ts";

/** ClickHouse's TABLE_ALREADY_EXISTS: also what a second CREATE of a view or dictionary answers. */
const ALREADY_EXISTS = "57";

export function clickHouseTarget(client: ClickHouseClient, topology: Topology = { kind: "single" }): MigrationTarget {
  return {
    dialect: "clickhouse",
    async prepareLedger() {
      for (const query of ledgerStatements(topology)) await client.command({ query });
    },
    render: (statement) => renderStatement(statement, topology),
    async applied() {
      const result = await client.query({
        query: "SELECT version, name, checksum FROM schema_migrations",
        format: "JSONEachRow",
      });
      return result.json<{ version: number; name: string; checksum: string }>();
    },
    async stepsDone(version, checksum) {
      const result = await client.query({
        query: "SELECT step FROM schema_migration_steps WHERE version = {v:UInt32} AND checksum = {c:String}",
        query_params: { v: version, c: checksum },
        format: "JSONEachRow",
      });
      return new Set((await result.json<{ step: number }>()).map((r) => Number(r.step)));
    },
    /**
     * A CREATE whose object exists was run by an interrupted earlier attempt of this same statement
     * (migrations never change once applied), so it is done; any other failure stops the run.
     */
    async run(statement) {
      try {
        await client.command({ query: statement });
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
      });
    },
    async recordMigration({ version, name, checksum }) {
      await client.insert({ table: "schema_migrations", values: [{ version, name, checksum }], format: "JSONEachRow" });
    },
  };
}
