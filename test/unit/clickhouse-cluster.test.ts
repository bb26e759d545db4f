/**
 * core/clickhouse/cluster.ts: every runtime statement our builders produce, rewritten for a
 * self-managed cluster (deletes and ALTERs to `<table>_local ON CLUSTER`, INSERT … SELECT left on
 * the Distributed tables with a synchronous insert), unchanged with no cluster; the shapes and
 * tables it does not know are refused. Also that no runtime file runs a statement around the one
 * helper that applies it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  CLUSTER_TABLES,
  clusterInsertSettings,
  clusterQuerySettings,
  clusterStatementSettings,
  eventPartitionsStatement,
  forCluster,
  plainTableRows,
  statementKind,
} from "../../core/clickhouse/cluster.ts";
import { ConfigSchema } from "../../core/config.ts";
import * as erasure from "../../core/privacy/erasure-clickhouse.ts";
import { DEFAULT_RETENTION_DAYS, ttlStatements } from "../../core/privacy/ttl.ts";
import { alignedCover, DAYS_TABLES, respanStatements } from "../../core/query/rollup-spans.ts";
import { clearStatements } from "../../core/replay/replay.ts";
import { DAY_MS } from "../../core/time.ts";
import { dropPartitionSql, EVENT_PARTITIONS_SQL } from "../../core/warehouse/retention.ts";
import { querySettings } from "../../platform/clickhouse.ts";

const DAY = Date.UTC(2026, 2, 4);
const [FROM, TO] = alignedCover(DAY, DAY + DAY_MS);

/** Every runtime statement that is not a plain SELECT or a client insert, from the real builders. */
function runtimeStatements(): string[] {
  return [
    ...erasure.deletePropertyRows("p1").map((s) => s.sql),
    ...erasure.deleteVisitorRows("p1", "v1", ["c1"]).map((s) => s.sql),
    ...erasure.rebuildDayStatements("p1", DAY).map((s) => s.sql),
    ...DAYS_TABLES.flatMap((t) => respanStatements(t)),
    ...clearStatements("p1", FROM, TO).map((s) => s.sql),
    ...ttlStatements(DEFAULT_RETENTION_DAYS).map((s) => s.sql),
    ...ttlStatements({ rows: 365, rawUserAgent: 7 }).map((s) => s.sql),
    dropPartitionSql(DAY),
  ];
}

describe("forCluster", () => {
  it("leaves every runtime statement exactly as it is with no cluster", () => {
    for (const sql of runtimeStatements()) expect(forCluster("", sql)).toBe(sql);
  });

  it("sends every delete and ALTER to its table's _local ON CLUSTER, the rest of the statement untouched", () => {
    const mutations = runtimeStatements().filter((sql) => statementKind(sql) === "mutation");
    expect(mutations.length).toBeGreaterThan(20);
    for (const sql of mutations) {
      const out = forCluster("tally", sql);
      const m = /^(DELETE FROM|ALTER TABLE) ([a-z_]+) (.*)$/s.exec(sql) ?? expect.fail(sql);
      expect(out).toBe(`${m[1]} ${m[2]}_local ON CLUSTER tally ${m[3]}`);
      expect(CLUSTER_TABLES).toContain(m[2]);
    }
  });

  it("rewrites the statements of each kind as expected", () => {
    expect(forCluster("tally", dropPartitionSql(DAY))).toBe(
      "ALTER TABLE events_local ON CLUSTER tally DROP PARTITION 20260304",
    );
    const [eventsTtl, uaTtl] = ttlStatements({ rows: 365, rawUserAgent: 7 });
    expect(forCluster("tally", eventsTtl?.sql ?? "")).toBe(
      "ALTER TABLE events_local ON CLUSTER tally MODIFY TTL toDateTime(event_timestamp) + INTERVAL 365 DAY",
    );
    expect(forCluster("tally", uaTtl?.sql ?? "")).toBe(
      "ALTER TABLE events_local ON CLUSTER tally MODIFY COLUMN user_agent TTL toDateTime(event_timestamp) + INTERVAL 7 DAY",
    );
    expect(forCluster("tally", erasure.deletePropertyRows("p1")[0]?.sql ?? "")).toBe(
      "DELETE FROM events_local ON CLUSTER tally WHERE property_id = {p:String}",
    );
  });

  it("leaves INSERT … SELECT on the Distributed tables (reads every shard, writes through the sharding key)", () => {
    const inserts = runtimeStatements().filter((sql) => statementKind(sql) === "insert_select");
    // Two rebuilds of an erased day, two respans.
    expect(inserts).toHaveLength(4);
    for (const sql of inserts) {
      expect(forCluster("tally", sql)).toBe(sql);
      expect(sql).not.toContain("_local");
    }
  });

  it("refuses a statement shape it does not know, on a cluster", () => {
    for (const sql of [
      "TRUNCATE TABLE events",
      "OPTIMIZE TABLE events FINAL",
      "ALTER TABLE events DROP COLUMN user_agent",
      "ALTER TABLE events DROP PARTITION '2026-03-04'",
      "ALTER TABLE events MODIFY SETTING ttl_only_drop_parts = 1",
      "SELECT count() FROM events",
      "INSERT INTO events VALUES (1)",
      "DELETE FROM events",
      "DELETE FROM events WHERE client_id IN (SELECT client_id FROM sessions)",
      "DELETE FROM events WHERE property_id = 'a'; DROP TABLE events",
      "DELETE FROM events ON CLUSTER other WHERE property_id = 'a'",
      "DELETE FROM events_local WHERE property_id = 'a'",
    ])
      expect(() => forCluster("tally", sql), sql).toThrow(/cluster statements/);
  });

  it("refuses a table that is not one of Tally's", () => {
    expect(() => forCluster("tally", "DELETE FROM users WHERE id = 1")).toThrow(/users is not one of Tally's tables/);
    expect(() => forCluster("tally", "ALTER TABLE schema_migrations MODIFY TTL now()")).toThrow(/not one of/);
  });

  it("refuses a cluster name that is not an identifier", () => {
    expect(() => forCluster("tally; DROP", dropPartitionSql(DAY))).toThrow(/not a cluster name/);
    expect(() => forCluster("'x'", dropPartitionSql(DAY))).toThrow(/not a cluster name/);
  });
});

describe("cluster settings", () => {
  it("makes client inserts and INSERT … SELECT foreground Distributed inserts on a cluster only", () => {
    expect(clusterInsertSettings("")).toEqual({});
    expect(clusterInsertSettings("tally")).toEqual({ distributed_foreground_insert: 1 });
    const [, , insert] = erasure.rebuildDayStatements("p1", DAY);
    expect(clusterStatementSettings("tally", insert?.sql ?? "")).toEqual({ distributed_foreground_insert: 1 });
    expect(clusterStatementSettings("", insert?.sql ?? "")).toEqual({});
  });

  it("has every ON CLUSTER statement answer only once every host has (wait_end_of_query)", () => {
    const mutations = runtimeStatements().filter((sql) => statementKind(sql) === "mutation");
    expect(mutations.length).toBeGreaterThan(20);
    for (const sql of mutations) {
      expect(forCluster("tally", sql)).toContain(" ON CLUSTER tally ");
      expect(clusterStatementSettings("tally", sql)).toEqual({ wait_end_of_query: 1 });
      expect(clusterStatementSettings("", sql)).toEqual({});
    }
  });

  it("lets the query API's subqueries read each shard's own tables, on a cluster only", () => {
    const config = (cluster: string) =>
      ConfigSchema.parse({ CLICKHOUSE_URL: "http://localhost:8123", CLICKHOUSE_CLUSTER: cluster });
    expect(clusterQuerySettings("tally")).toEqual({ distributed_product_mode: "local" });
    expect(clusterQuerySettings("")).toEqual({});
    expect(querySettings(config("tally"))).toMatchObject({ distributed_product_mode: "local", readonly: "2" });
    expect(querySettings(config(""))).not.toHaveProperty("distributed_product_mode");
  });
});

describe("system tables on a cluster", () => {
  const rows = [
    { name: "events", create_table_query: "distributed" },
    { name: "events_local", create_table_query: "local events" },
    { name: "sessions_local", create_table_query: "local sessions" },
    { name: "schema_migrations", create_table_query: "ledger" },
    { name: "other_local", create_table_query: "not ours" },
  ];

  it("reads the _local tables under their plain names and nothing else", () => {
    expect(plainTableRows("tally", rows)).toEqual([
      { name: "events", create_table_query: "local events" },
      { name: "sessions", create_table_query: "local sessions" },
    ]);
  });

  it("reads every row as it is with no cluster", () => {
    expect(plainTableRows("", rows)).toEqual(rows);
  });

  it("lists events' partitions from every replica's events_local on a cluster", () => {
    expect(eventPartitionsStatement("", "db", EVENT_PARTITIONS_SQL)).toEqual({ sql: EVENT_PARTITIONS_SQL });
    const s = eventPartitionsStatement("tally", "db", EVENT_PARTITIONS_SQL);
    expect(s.sql).toContain("clusterAllReplicas({cluster:String}, system.parts)");
    expect(s.sql).toContain("table = 'events_local'");
    expect(s.params).toEqual({ cluster: "tally", database: "db" });
  });
});

/** Runtime folders whose ClickHouse statements must go through platform/clickhouse.ts clickHouseCommand. */
const RUNTIME = ["consumers", "durable-objects", "workers", "platform"];
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

describe("one way to run a statement", () => {
  it("has no runtime file call a ClickHouse client's command() but platform/clickhouse.ts", () => {
    const callers = RUNTIME.flatMap((d) => files(join(ROOT, d))).filter((f) =>
      /\.command\(/.test(readFileSync(f, "utf8")),
    );
    expect(callers.map((f) => relative(ROOT, f))).toEqual([join("platform", "clickhouse.ts")]);
  });
});
