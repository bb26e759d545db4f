/**
 * The ClickHouse target renderer's refusals and choices (migrations/clickhouse-render.ts,
 * clickhouse-topology.ts): what it does not understand it refuses by name, never half-translates.
 * What it emits is held to the engine in test/integration/clickhouse-targets.test.ts.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { describe, expect, it } from "vitest";
import { accessStatements, defaultQueryLimits } from "../../migrations/clickhouse-access.ts";
import { renderStatement, UnsupportedStatementError } from "../../migrations/clickhouse-render.ts";
import { clickHouseTarget } from "../../migrations/clickhouse-target.ts";
import { chooseTopology, SHARDING_KEYS, type Topology } from "../../migrations/clickhouse-topology.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { type MigrationTarget, migrate, parseStatements } from "../../migrations/migrator.ts";

const CLUSTER: Topology = { kind: "cluster", cluster: "c1", database: "db" };
const CLOUD: Topology = { kind: "cloud" };

describe("renderStatement refuses what it does not understand, naming the statement", () => {
  const refused: [string, Topology, RegExp][] = [
    [
      "CREATE DICTIONARY d (k UInt64) PRIMARY KEY k SOURCE(NULL()) LAYOUT(FLAT()) LIFETIME(0)",
      CLUSTER,
      /not a statement form/,
    ],
    ["OPTIMIZE TABLE events FINAL", CLOUD, /not a statement form/],
    ["RENAME TABLE events TO events_old", CLUSTER, /not a statement form/],
    ["INSERT INTO events (event_id) VALUES ('x')", CLUSTER, /not a statement form/],
    ["CREATE VIEW v AS SELECT 1", CLUSTER, /not a statement form/],
    [
      "CREATE MATERIALIZED VIEW v ENGINE = MergeTree ORDER BY x AS SELECT x FROM events",
      CLUSTER,
      /not a statement form/,
    ],
    ["CREATE TABLE t (x String) ENGINE = Memory", CLOUD, /engine Memory is not one of/],
    [
      "CREATE TABLE t (x String) ENGINE = ReplicatedMergeTree('/p', '{replica}') ORDER BY x",
      CLUSTER,
      /engine ReplicatedMergeTree/,
    ],
    ["CREATE TABLE t (x String) AS events", CLUSTER, /no ENGINE =/],
    [
      "CREATE TABLE visits (x String) ENGINE = MergeTree ORDER BY x",
      CLUSTER,
      /table visits has no sharding key: add it to CLUSTER_TABLES .* and SHARDING_KEYS/,
    ],
    ["CREATE TABLE events (x String ENGINE = MergeTree ORDER BY x", CLUSTER, /unbalanced column list/],
    ["ALTER TABLE events DELETE WHERE 1", CLUSTER, /ALTER command "DELETE WHERE 1"/],
    ["ALTER TABLE events UPDATE x = 1 WHERE 1", CLOUD, /ALTER command "UPDATE x ="/],
    ["ALTER TABLE events DROP PARTITION 20260101", CLUSTER, /ALTER command "DROP PARTITION/],
    [
      "ALTER TABLE events MODIFY COLUMN user_agent String TTL event_timestamp + INTERVAL 1 DAY",
      CLUSTER,
      /mixes a column change with a TTL/,
    ],
    ["ALTER TABLE visits ADD COLUMN x String", CLUSTER, /table visits has no sharding key/],
    [
      "CREATE MATERIALIZED VIEW v TO sessions AS SELECT * FROM session_log WHERE session_id IN (SELECT session_id FROM events)",
      CLUSTER,
      /exactly one table/,
    ],
    [
      "CREATE MATERIALIZED VIEW v TO sessions AS SELECT * FROM session_log ANY LEFT JOIN (SELECT 1 AS x) AS o ON 1",
      CLUSTER,
      /JOIN would join one shard's rows/,
    ],
    ["CREATE MATERIALIZED VIEW v TO sessions AS SELECT * FROM db.session_log", CLUSTER, /not a plain table name/],
    ["CREATE MATERIALIZED VIEW v TO visits AS SELECT * FROM session_log", CLUSTER, /table visits has no sharding key/],
    ["INSERT INTO events SELECT * FROM remote('h', db.events)", CLUSTER, /not a plain table name/],
    ["INSERT INTO events SELECT * FROM events_archive", CLUSTER, /events_archive has no sharding key/],
    ["DROP TABLE visits", CLUSTER, /table visits has no sharding key/],
    ["DROP DATABASE db", CLOUD, /not a statement form/],
    [
      "ALTER TABLE events /* why */ MODIFY TTL event_timestamp + INTERVAL 1 DAY",
      CLUSTER,
      /comments inside a statement/,
    ],
    ["ALTER TABLE events RENAME COLUMN page_url TO url", CLUSTER, /RENAME COLUMN page_url TO url.*add the new column/],
  ];
  for (const [statement, topology, reason] of refused)
    it(`${topology.kind}: ${statement.slice(0, 60)}`, () => {
      let error: unknown;
      try {
        renderStatement(statement, topology);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UnsupportedStatementError);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toContain(`target ${topology.kind}`);
      expect((error as Error).message).toContain(statement.slice(0, 40));
    });

  it("leaves any statement alone on one server, even one it would refuse elsewhere", () => {
    expect(renderStatement("OPTIMIZE TABLE events FINAL", { kind: "single" })).toEqual(["OPTIMIZE TABLE events FINAL"]);
  });

  it("keeps quoted text as written and reads only SQL outside quotes", () => {
    const [local] = renderStatement(
      "CREATE MATERIALIZED VIEW v TO sessions AS SELECT 'a FROM events -- x' AS s FROM session_log",
      CLUSTER,
    );
    expect(local).toBe(
      "CREATE MATERIALIZED VIEW v ON CLUSTER 'c1' TO sessions_local AS\nSELECT 'a FROM events -- x' AS s FROM session_log_local",
    );
  });
});

describe("renderStatement's engines and column changes", () => {
  it("reads engine arguments after a space as arguments, never as part of the tail", () => {
    const sql = "CREATE TABLE alerts (x String, version UInt64) ENGINE = ReplacingMergeTree (version) ORDER BY x";
    expect(renderStatement(sql, CLUSTER)[0]).toBe(
      "CREATE TABLE alerts_local ON CLUSTER 'c1'\n(x String, version UInt64)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/alerts_local', '{replica}', version)\nORDER BY x",
    );
    expect(renderStatement(sql, CLOUD)).toEqual([
      "CREATE TABLE alerts\n(x String, version UInt64)\nENGINE = SharedReplacingMergeTree(version)\nORDER BY x",
    ]);
    expect(renderStatement(sql.replace(" (version)", "(version)"), CLUSTER)).toEqual(renderStatement(sql, CLUSTER));
  });

  it("fills a stored column on the local tables only: a Distributed table stores nothing", () => {
    expect(renderStatement("ALTER TABLE events MATERIALIZE COLUMN visitor_hash", CLUSTER)).toEqual([
      "ALTER TABLE events_local ON CLUSTER 'c1'\n    MATERIALIZE COLUMN visitor_hash",
    ]);
    expect(renderStatement("ALTER TABLE events MATERIALIZE COLUMN visitor_hash", CLOUD)).toEqual([
      "ALTER TABLE events\n    MATERIALIZE COLUMN visitor_hash",
    ]);
  });

  it("drops a column from the Distributed table before the local ones, and adds it to the local ones first", () => {
    expect(renderStatement("ALTER TABLE events DROP COLUMN a, ADD COLUMN b String", CLUSTER)).toEqual([
      "ALTER TABLE events ON CLUSTER 'c1'\n    DROP COLUMN a",
      "ALTER TABLE events_local ON CLUSTER 'c1'\n    DROP COLUMN a,\n    ADD COLUMN b String",
      "ALTER TABLE events ON CLUSTER 'c1'\n    ADD COLUMN b String",
    ]);
    expect(renderStatement("ALTER TABLE events DROP COLUMN IF EXISTS a", CLUSTER)).toEqual([
      "ALTER TABLE events ON CLUSTER 'c1'\n    DROP COLUMN IF EXISTS a",
      "ALTER TABLE events_local ON CLUSTER 'c1'\n    DROP COLUMN IF EXISTS a",
    ]);
  });

  it("renames a column on Cloud, which has no Distributed table to disagree with", () => {
    expect(renderStatement("ALTER TABLE events RENAME COLUMN a TO b", CLOUD)).toEqual([
      "ALTER TABLE events\n    RENAME COLUMN a TO b",
    ]);
  });
});

describe("clickHouseTarget's settings", () => {
  /** A client that records each call's settings, answering reads with no rows. */
  function recording() {
    const calls: { kind: string; text: string; settings: unknown }[] = [];
    const fake = {
      command: async (a: { query: string; clickhouse_settings?: unknown }) =>
        void calls.push({ kind: "command", text: a.query, settings: a.clickhouse_settings }),
      query: async (a: { query: string; clickhouse_settings?: unknown }) => {
        calls.push({ kind: "query", text: a.query, settings: a.clickhouse_settings });
        return { json: async () => [] };
      },
      insert: async (a: { table: string; clickhouse_settings?: unknown }) =>
        void calls.push({ kind: "insert", text: a.table, settings: a.clickhouse_settings }),
    };
    return { calls, client: fake as unknown as ClickHouseClient };
  }
  const run = async (topology: Topology) => {
    const { calls, client } = recording();
    await migrate(clickHouseTarget(client, topology), [
      { version: 1, name: "0001_a.sql", sql: "DROP TABLE IF EXISTS events;" },
    ]);
    const settingsOf = (kind: string) => {
      const each = calls.filter((c) => c.kind === kind).map((c) => c.settings);
      return each.filter((v, i) => each.findIndex((w) => JSON.stringify(w) === JSON.stringify(v)) === i);
    };
    return { command: settingsOf("command"), query: settingsOf("query"), insert: settingsOf("insert") };
  };

  it("on a cluster: every statement waits for every host, ledger reads are sequentially consistent after quorum writes", async () => {
    expect(await run(CLUSTER)).toEqual({
      command: [{ wait_end_of_query: 1 }],
      query: [{ select_sequential_consistency: "1" }],
      insert: [{ insert_quorum: "auto", insert_quorum_parallel: 0 }],
    });
  });

  it("on Cloud: ledger reads sequentially consistent; on one server: nothing added", async () => {
    expect(await run(CLOUD)).toEqual({
      command: [undefined],
      query: [{ select_sequential_consistency: "1" }],
      insert: [undefined],
    });
    expect(await run({ kind: "single" })).toEqual({ command: [undefined], query: [undefined], insert: [undefined] });
  });
});

describe("the cluster layout", () => {
  it("has a sharding key for exactly the tables the migrations create", () => {
    const created = readClickHouseMigrations()
      .flatMap((m) => parseStatements(m.sql))
      .flatMap((s) => /^CREATE TABLE (?:IF NOT EXISTS )?(\w+)/.exec(s.sql)?.[1] ?? []);
    expect(Object.keys(SHARDING_KEYS).sort()).toEqual([...new Set(created)].sort());
  });

  it("sends a session's log rows, its versions and its events to one shard", () => {
    expect(new Set([SHARDING_KEYS.events, SHARDING_KEYS.session_log, SHARDING_KEYS.sessions])).toEqual(
      new Set(["cityHash64(client_id)"]),
    );
  });
});

describe("chooseTopology", () => {
  it("is cluster when a cluster is named, else single; --target and CLICKHOUSE_TARGET choose", () => {
    expect(chooseTopology({}, {})).toEqual({ kind: "single" });
    expect(chooseTopology({}, { CLICKHOUSE_CLUSTER: "prod", CLICKHOUSE_DATABASE: "tally" })).toEqual({
      kind: "cluster",
      cluster: "prod",
      database: "tally",
    });
    expect(chooseTopology({}, { CLICKHOUSE_TARGET: "cloud" })).toEqual({ kind: "cloud" });
    expect(chooseTopology({ target: "cluster" }, {}, "tally")).toEqual({
      kind: "cluster",
      cluster: "tally",
      database: "default",
    });
  });

  it("refuses an unknown target, a cluster without a name, a name that is not an identifier", () => {
    expect(() => chooseTopology({ target: "sharded" }, {})).toThrow(/unknown ClickHouse target "sharded"/);
    expect(() => chooseTopology({ target: "cluster" }, {})).toThrow(/needs a cluster name/);
    expect(() => chooseTopology({ cluster: "a'b" }, {})).toThrow(/cluster: must be an identifier/);
    expect(() => chooseTopology({ target: "cloud", cluster: "x" }, {})).toThrow(
      /--cluster applies to --target cluster only/,
    );
  });
});

describe("accessStatements", () => {
  it("caps the query user at the Worker's QUERY_MAX_* defaults and writes no password", () => {
    const limits = defaultQueryLimits();
    expect(limits).toEqual({ maxExecutionSeconds: 15, maxMemoryBytes: 4_000_000_000, maxResultRows: 1_000_000 });
    const [database, profile, ...rest] = accessStatements({ kind: "single" }, "tally");
    expect(database).toBe("CREATE DATABASE IF NOT EXISTS tally");
    expect(profile).toContain("max_execution_time = 15 MAX 15");
    expect(profile).toContain("readonly = 2 CONST");
    // On a cluster the Worker sends distributed_product_mode with every query: no constraint on it.
    expect(profile).not.toMatch(/distributed_product_mode/);
    for (const s of rest)
      if (/IDENTIFIED/.test(s)) expect(s).toMatch(/sha256_hash BY '<sha256 hex of the tally_\w+ password>'/);
  });

  it("runs every statement on every node of a cluster", () => {
    const statements = accessStatements(CLUSTER, "tally");
    expect(statements).toHaveLength(7);
    for (const s of statements) expect(s).toMatch(/ON CLUSTER 'c1'/);
  });
});

describe("migrate() with a rendering target", () => {
  it("renders every pending statement before running any: one it cannot render stops the run untouched", async () => {
    const ran: string[] = [];
    const target: MigrationTarget = {
      dialect: "clickhouse",
      prepareLedger: async () => undefined,
      applied: async () => [],
      stepsDone: async () => new Set(),
      render: (sql) => renderStatement(sql, CLUSTER),
      run: async (sql) => void ran.push(sql),
      recordStep: async () => undefined,
      recordMigration: async () => undefined,
    };
    const good = { version: 1, name: "0001_a.sql", sql: "DROP TABLE IF EXISTS events;" };
    const bad = { version: 2, name: "0002_b.sql", sql: "OPTIMIZE TABLE events FINAL;" };
    await expect(migrate(target, [good, bad])).rejects.toThrow(/OPTIMIZE TABLE events FINAL/);
    expect(ran).toEqual([]);
    await migrate(target, [good]);
    expect(ran).toEqual([
      "DROP TABLE IF EXISTS events ON CLUSTER 'c1' SYNC",
      "DROP TABLE IF EXISTS events_local ON CLUSTER 'c1' SYNC",
    ]);
  });
});
