/**
 * The Worker's runtime ClickHouse statements on a self-managed cluster (core/clickhouse/cluster.ts)
 * against the real engine: every rewritten statement parses, each delete and ALTER ON CLUSTER
 * against a `_local` table; query parameters are substituted by the receiving server before the
 * statement is handed to the cluster; what each host then runs (the statement without ON CLUSTER,
 * as ClickHouse's DDL worker executes it) does its work on a `_local` layout; the cluster's insert
 * setting is one the engine takes; and with no cluster, every statement runs as before.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { CLUSTER_TABLES, forCluster, plainTableRows, statementKind } from "../../core/clickhouse/cluster.ts";
import { toClickHouseRow } from "../../core/clickhouse-row.ts";
import { type Config, ConfigSchema } from "../../core/config.ts";
import * as erasure from "../../core/privacy/erasure-clickhouse.ts";
import { DEFAULT_RETENTION_DAYS, TABLE_DDL_SQL, ttlChanges, ttlStatements } from "../../core/privacy/ttl.ts";
import { alignedCover, DAYS_TABLES, respanStatements } from "../../core/query/rollup-spans.ts";
import { clearStatements } from "../../core/replay/replay.ts";
import { DAY_MS } from "../../core/time.ts";
import { dropPartitionSql, EVENT_PARTITIONS_SQL } from "../../core/warehouse/retention.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { clickHouseCommand } from "../../platform/clickhouse.ts";
import { createClickHouseSink } from "../../platform/clickhouse-sink.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const P = "UA-CLUSTER-1";
const DAY = Date.UTC(2026, 10, 26);
const [FROM, TO] = alignedCover(DAY, DAY + DAY_MS);
const SHORTER = { rows: 365, rawUserAgent: 7 };
/** The erasure's settings as the shell passes them (consumers/erasure-work.ts). */
const DELETE: Record<string, string> = erasure.DELETE_SETTINGS;
const REBUILD: Record<string, string> = erasure.REBUILD_SETTINGS;

/** Every runtime statement that is not a plain SELECT or a client insert, from the real builders. */
const runtimeStatements = (): string[] => [
  ...erasure.deletePropertyRows(P).map((s) => s.sql),
  ...erasure.deleteVisitorRows(P, "v1", ["c1"]).map((s) => s.sql),
  ...erasure.rebuildDayStatements(P, DAY).map((s) => s.sql),
  ...DAYS_TABLES.flatMap((t) => respanStatements(t)),
  ...clearStatements(P, FROM, TO).map((s) => s.sql),
  ...ttlStatements(DEFAULT_RETENTION_DAYS).map((s) => s.sql),
  ...ttlStatements(SHORTER).map((s) => s.sql),
  dropPartitionSql(DAY),
];

/** What one host of the cluster runs: the DDL worker executes the statement without its ON CLUSTER. */
const onOneHost = (sql: string) => {
  expect(sql).toContain(" ON CLUSTER tally ");
  return sql.replace(" ON CLUSTER tally ", " ");
};

const event = (clientId: string, n: number) =>
  toClickHouseRow(
    makeEvent({
      property_id: P,
      client_id: clientId,
      event_id: `${clientId}-${n}`,
      event_timestamp: DAY + 9 * 3_600_000 + n * 60_000,
    }),
    DAY + 10 * 3_600_000,
  );

async function count(client: ClickHouseClient, table: string, where = "1"): Promise<number> {
  const [r] = await rows<{ n: number }>(client, `SELECT count() AS n FROM ${table} WHERE ${where}`);
  return Number(r?.n);
}

let engine: ClickHouseClient;

beforeAll(async () => {
  ({ client: engine } = await freshDatabase("cluster_parse", { migrated: false }));
});

describe("on a cluster, as the engine reads each statement", () => {
  it("parses every rewritten statement: deletes and ALTERs ON CLUSTER against a _local table, INSERT … SELECT as it was", async () => {
    const statements = runtimeStatements();
    expect(statements.length).toBeGreaterThan(30);
    for (const sql of statements) {
      const rewritten = forCluster("tally", sql);
      const [r] = await rows<{ f: string }>(engine, "SELECT formatQuery({q:String}) AS f", { q: rewritten });
      const formatted = r?.f ?? expect.fail(rewritten);
      if (statementKind(sql) === "mutation")
        expect(formatted, sql).toMatch(/^(DELETE FROM|ALTER TABLE) [a-z_]+_local ON CLUSTER tally\b/);
      else
        expect(formatted, sql).toMatch(
          /^INSERT INTO (events_rollup|sessions_rollup|events_rollup_days|sessions_rollup_days)\s/,
        );
      if (statementKind(sql) === "insert_select") expect(formatted).not.toMatch(/ON CLUSTER|_local/);
    }
  });

  it("substitutes query parameters on the receiving server, before the statement is handed to the cluster", async () => {
    const sql = forCluster("tally", erasure.deletePropertyRows(P)[0]?.sql ?? "");
    await engine.command({
      query: "CREATE TABLE events_local (property_id String) ENGINE = MergeTree ORDER BY property_id",
    });
    // Without its value the statement stops at substitution; with it, it reaches distributed DDL
    // (which the embedded engine, one process, refuses): the value was already in the statement.
    await expect(engine.command({ query: sql })).rejects.toThrow(/Substitution `p` is not set/);
    await expect(engine.command({ query: sql, query_params: { p: P } })).rejects.toThrow(
      /Replicated DDL queries are disabled/,
    );
  });

  it("takes the settings cluster statements carry: inserts', queries' and the migrator's ledger's", async () => {
    const names = [
      "distributed_foreground_insert",
      "distributed_product_mode",
      "insert_distributed_sync",
      "insert_quorum",
      "insert_quorum_parallel",
      "select_sequential_consistency",
    ];
    const found = await rows<{ name: string }>(
      engine,
      "SELECT name FROM system.settings WHERE name IN {names:Array(String)} ORDER BY name",
      { names },
    );
    expect(found.map((r) => r.name)).toEqual(names);
    await expect(
      rows(
        engine,
        "SELECT 1 AS one SETTINGS distributed_product_mode = 'local', select_sequential_consistency = 1, insert_quorum = 'auto', insert_quorum_parallel = 0",
      ),
    ).resolves.toEqual([{ one: 1 }]);
  });
});

describe("with CLICKHOUSE_CLUSTER set", () => {
  let client: ClickHouseClient;
  let config: Config;

  beforeAll(async () => {
    const fresh = await freshDatabase("cluster_local");
    client = fresh.client;
    config = ConfigSchema.parse({
      CLICKHOUSE_URL: fresh.url,
      CLICKHOUSE_DATABASE: fresh.database,
      CLICKHOUSE_CLUSTER: "tally",
    });
    // The sink's inserts carry the cluster's setting; on one server the engine takes it and the
    // token still drops a retry.
    const sink = createClickHouseSink(config);
    const batch = [event("c1", 1), event("c1", 2), event("c2", 1)];
    await sink.insert(batch, "cluster-batch");
    await sink.insert(batch, "cluster-batch");
  });

  it("inserts once across a retry with the cluster's insert settings", async () => {
    expect(await count(client, "events", `property_id = '${P}'`)).toBe(3);
  });

  it("does on each host's _local tables what the single-server statements do", async () => {
    // The cluster's layout on one host: each table as <name>_local.
    const tables = new Set(
      (await rows<{ name: string }>(client, "SELECT name FROM system.tables WHERE database = currentDatabase()")).map(
        (t) => t.name,
      ),
    );
    for (const t of CLUSTER_TABLES)
      if (tables.has(t)) await client.command({ query: `RENAME TABLE ${t} TO ${t}_local` });

    for (const s of erasure.deleteVisitorRows(P, "c1", ["c1"]))
      await client.command({
        query: onOneHost(forCluster("tally", s.sql)),
        query_params: s.params,
        clickhouse_settings: DELETE,
      });
    expect(await count(client, "events_local", `property_id = '${P}'`)).toBe(1);

    // The TTL pass reads the _local tables' DDL under the plain names and changes them there.
    const read = () => rows<{ name: string; create_table_query: string }>(client, TABLE_DDL_SQL);
    const changes = ttlChanges(plainTableRows("tally", await read()), SHORTER);
    expect(changes.map((c) => c.table)).toContain("events");
    expect(changes.some((c) => c.column === "user_agent")).toBe(true);
    for (const c of changes) await client.command({ query: onOneHost(forCluster("tally", c.sql)) });
    expect(ttlChanges(plainTableRows("tally", await read()), SHORTER)).toEqual([]);

    const partitions = await rows<{ partition: string }>(
      client,
      EVENT_PARTITIONS_SQL.replace("table = 'events'", "table = 'events_local'"),
    );
    expect(partitions.map((p) => p.partition)).toEqual(["20261126"]);
    await client.command({ query: onOneHost(forCluster("tally", dropPartitionSql(DAY))) });
    expect(await count(client, "events_local")).toBe(0);
  });

  it("sends a delete ON CLUSTER to the _local table through clickHouseCommand, and refuses a statement it does not know before sending", async () => {
    const [s] = erasure.deleteVisitorRows(P, "c1", ["c1"]);
    await expect(clickHouseCommand(config, { sql: s?.sql ?? "", params: s?.params })).rejects.toThrow(
      /Replicated DDL queries are disabled/,
    );
    // Sent, it would fail on the missing table (renamed above): it is refused before that.
    await expect(clickHouseCommand(config, { sql: "TRUNCATE TABLE events" })).rejects.toThrow(
      /shape Tally does not know/,
    );
  });
});

describe("with no cluster", () => {
  let client: ClickHouseClient;
  let config: Config;

  beforeAll(async () => {
    const fresh = await freshDatabase("cluster_none");
    client = fresh.client;
    config = ConfigSchema.parse({ CLICKHOUSE_URL: fresh.url, CLICKHOUSE_DATABASE: fresh.database });
    await createClickHouseSink(config).insert([event("c1", 1), event("c1", 2), event("c2", 1)], "plain");
  });

  it("runs every runtime statement as it was built", async () => {
    for (const s of erasure.deleteVisitorRows(P, "c1", ["c1"]))
      await clickHouseCommand(config, { ...s, settings: DELETE });
    expect(await count(client, "events", `property_id = '${P}'`)).toBe(1);

    for (const s of erasure.rebuildDayStatements(P, DAY)) await clickHouseCommand(config, { ...s, settings: REBUILD });
    for (const table of DAYS_TABLES)
      for (const sql of respanStatements(table))
        await clickHouseCommand(config, {
          sql,
          params: { p: P, from: FROM, to: TO },
          settings: REBUILD,
        });
    const [overall] = await rows<{ visitors: number; pageviews: number }>(
      client,
      "SELECT uniqCombinedMerge(14)(visitors_p14) AS visitors, sum(pageviews) AS pageviews FROM events_rollup WHERE property_id = {p:String} AND dim = ''",
      { p: P },
    );
    expect({ visitors: Number(overall?.visitors), pageviews: Number(overall?.pageviews) }).toEqual({
      visitors: 1,
      pageviews: 1,
    });

    const changes = ttlChanges(await rows(client, TABLE_DDL_SQL), SHORTER);
    expect(changes.length).toBeGreaterThan(0);
    for (const c of changes) await clickHouseCommand(config, { sql: c.sql });
    expect(ttlChanges(await rows(client, TABLE_DDL_SQL), SHORTER)).toEqual([]);

    for (const s of clearStatements(P, FROM, TO)) await clickHouseCommand(config, s);
    expect(await count(client, "events")).toBe(0);
    expect(await count(client, "events_rollup")).toBe(0);

    await createClickHouseSink(config).insert([event("c3", 1)], "again");
    await clickHouseCommand(config, { sql: dropPartitionSql(DAY) });
    expect(await count(client, "events")).toBe(0);
  });
});
