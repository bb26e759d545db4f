/**
 * The migrations on every ClickHouse target (migrations/clickhouse-render.ts), held to the real
 * engine: each statement of each target, the ledger's and the users' SQL parse (formatQuery), the
 * cluster's DDL is all ON CLUSTER on Replicated and Distributed tables, Cloud's all SharedMergeTree,
 * and one server's is what the files say. The cluster's history also runs, end to end, on an engine
 * configured as a one-shard cluster (Distributed tables, views on the local tables, backfills),
 * with only ON CLUSTER and replication left out: those need ClickHouse Keeper, which chDB lacks.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { accessStatements } from "../../migrations/clickhouse-access.ts";
import { renderStatement } from "../../migrations/clickhouse-render.ts";
import { ledgerStatements, SHARDING_KEYS, shardingKeyOf, type Topology } from "../../migrations/clickhouse-topology.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { parseStatements } from "../../migrations/migrator.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const CLUSTER: Topology = { kind: "cluster", cluster: "tally", database: "tally_db" };
const TARGETS: Record<string, Topology> = { single: { kind: "single" }, cluster: CLUSTER, cloud: { kind: "cloud" } };

const migrations = readClickHouseMigrations();
const fileStatements = migrations.flatMap((m) => parseStatements(m.sql).map((s) => s.sql));
const rendered = (topology: Topology) => fileStatements.flatMap((s) => renderStatement(s, topology));
const everything = (topology: Topology) => [
  ...ledgerStatements(topology),
  ...rendered(topology),
  ...accessStatements(topology, "tally_db"),
];

let client: Awaited<ReturnType<typeof freshDatabase>>["client"];
beforeAll(async () => {
  ({ client } = await freshDatabase("targets", { migrated: false }));
});

/** The engine's own reading of a statement: it throws on anything it cannot parse. */
async function formatted(statement: string): Promise<string> {
  const [row] = await rows<{ q: string }>(client, "SELECT formatQuery({s:String}) AS q", { s: statement });
  return (row?.q ?? "").replace(/\s+/g, " ");
}

describe("every statement of every target parses on the engine", () => {
  for (const [name, topology] of Object.entries(TARGETS))
    it(`${name}: ledger, migrations and users`, async () => {
      const statements = everything(topology);
      expect(statements.length).toBeGreaterThan(fileStatements.length);
      for (const statement of statements) await expect(formatted(statement), statement).resolves.not.toBe("");
    });
});

describe("the cluster target", () => {
  it("runs every CREATE, ALTER, DROP and GRANT ON CLUSTER, on Replicated or Distributed tables only", async () => {
    const ddl = (await Promise.all(everything(CLUSTER).map(formatted))).filter((s) => !s.startsWith("INSERT"));
    expect(ddl.length).toBeGreaterThan(50);
    for (const statement of ddl) expect(statement, statement).toMatch(/ ON CLUSTER tally\b/);
    const engines = ddl.flatMap((s) => [...s.matchAll(/ENGINE = (\w+)/g)].map((m) => m[1]));
    expect(engines.length).toBeGreaterThan(20);
    for (const engine of engines) expect(engine).toMatch(/^(Replicated\w*MergeTree|Distributed)$/);
  });

  it("puts each Distributed table over a `_local` table created before it, with the table's deterministic key", async () => {
    const created = new Set<string>();
    let distributed = 0;
    for (const statement of (await Promise.all(rendered(CLUSTER).map(formatted))).filter((s) =>
      s.startsWith("CREATE TABLE"),
    )) {
      const name = /^CREATE TABLE (?:IF NOT EXISTS )?(\w+)/.exec(statement)?.[1] ?? "";
      const over = /ENGINE = Distributed\('tally', 'tally_db', '(\w+)', (.+)\)$/.exec(statement);
      if (over) {
        distributed++;
        expect(over[1]).toBe(`${name}_local`);
        expect(created).toContain(over[1]);
        expect(over[2]).toBe(shardingKeyOf(name));
        expect(over[2]).not.toMatch(/rand|now|UUID/i);
      } else
        expect(statement).toMatch(
          new RegExp(
            `ReplicatedMergeTree|Replicated\\w+MergeTree\\('/clickhouse/tables/\\{shard\\}/\\{database\\}/${name}'`,
          ),
        );
      created.add(name);
    }
    expect(distributed).toBe(11); // every CREATE TABLE of the files: 9 tables, 2 rollups re-created by 0006
  });

  it("keeps the ledger in one replicated table for every node, and the writer may run ON CLUSTER DDL", async () => {
    const ledger = await Promise.all(ledgerStatements(CLUSTER).map(formatted));
    for (const statement of ledger)
      expect(statement).toMatch(
        /ReplicatedMergeTree\('\/clickhouse\/tables\/\{database\}\/schema_migration\w*', '\{shard\}_\{replica\}'\)/,
      );
    expect(await formatted(accessStatements(CLUSTER, "tally_db").at(-1) ?? "")).toBe(
      "GRANT ON CLUSTER tally CLUSTER, REMOTE ON *.* TO tally_writer",
    );
  });
});

describe("the cloud target", () => {
  it("uses only SharedMergeTree engines, no ON CLUSTER, and the replicated deduplication window", async () => {
    const statements = await Promise.all(everything({ kind: "cloud" }).map(formatted));
    const engines = statements.flatMap((s) => [...s.matchAll(/ENGINE = (\w+)/g)].map((m) => m[1]));
    expect(engines.length).toBe(13); // the 2 ledger tables and the files' 11 CREATE TABLE
    for (const engine of engines) expect(engine).toMatch(/^Shared\w*MergeTree$/);
    for (const statement of statements) {
      expect(statement).not.toMatch(/ON CLUSTER/);
      expect(statement).not.toMatch(/non_replicated_deduplication_window/);
    }
    // events, sessions, session_log and alerts when created; the four rollups by 0007.
    expect(statements.filter((s) => /replicated_deduplication_window = 10000/.test(s))).toHaveLength(8);
  });
});

/**
 * Runs statements in a chDB of its own, in a child process (chDB binds one engine per process),
 * configured as cluster `tally`: one shard, this engine, so Distributed tables insert and read here.
 */
function runOneShardCluster(statements: string[], checks: Record<string, string>): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), "tally-one-shard-"));
  try {
    writeFileSync(
      join(dir, "config.xml"),
      `<clickhouse><tcp_port>9000</tcp_port><remote_servers><tally><shard><replica><host>localhost</host><port>9000</port></replica></shard></tally></remote_servers></clickhouse>`,
    );
    writeFileSync(join(dir, "input.json"), JSON.stringify({ statements, checks }));
    const script = `
      import { readFileSync } from "node:fs";
      import { Session } from "chdb";
      const dir = process.env.ONE_SHARD_DIR;
      const { statements, checks } = JSON.parse(readFileSync(dir + "/input.json", "utf8"));
      const session = new Session(dir + "/data", { connectionArgs: ["--config-file=" + dir + "/config.xml"] });
      session.query("CREATE DATABASE tally_db");
      for (const s of statements) {
        try { session.query("USE tally_db; " + s); }
        catch (e) { console.log(JSON.stringify({ failed: s, error: String(e) })); process.exit(0); }
      }
      const out = {};
      for (const [name, q] of Object.entries(checks)) out[name] = JSON.parse(session.query("USE tally_db; " + q, "JSON")).data;
      console.log(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, ONE_SHARD_DIR: dir },
    });
    if (child.status !== 0) throw new Error(child.stderr);
    return JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The cluster's DDL as one node without Keeper runs it: no ON CLUSTER, the engines unreplicated. */
function withoutKeeper(statement: string): string {
  return statement
    .replaceAll(" ON CLUSTER 'tally'", "")
    .replace(/Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?/, "$1(")
    .replaceAll("replicated_deduplication_window", "non_replicated_deduplication_window");
}

describe("the cluster's history on a one-shard cluster", () => {
  it("applies in order, and a retried insert through the Distributed tables reaches every view once", () => {
    const session = `{"session_id":"s1","property_id":"p1","client_id":"c1","opened_at":"2026-01-01 10:00:00.000","pageviews":2,"events":2,"version":1,"sign":1}`;
    const event = `{"event_id":"e1","property_id":"p1","client_id":"c1","session_id":"s1","event_type":"pageview","event_timestamp":"2026-01-01 10:00:00.000"}`;
    const settings =
      "SETTINGS distributed_foreground_insert = 1, deduplicate_blocks_in_dependent_materialized_views = 1";
    const retried = (table: string, row: string, token: string) =>
      Array(2).fill(
        `INSERT INTO ${table} ${settings}, insert_deduplication_token = '${token}' FORMAT JSONEachRow ${row}`,
      );
    const result = runOneShardCluster(
      [
        ...rendered(CLUSTER).map(withoutKeeper),
        ...retried("session_log", session, "b1"),
        ...retried("events", event, "b2"),
      ],
      {
        engines:
          "SELECT name, engine FROM system.tables WHERE database = 'tally_db' AND engine = 'Distributed' ORDER BY name",
        counts: `SELECT (SELECT count() FROM events) AS events, (SELECT count() FROM session_log) AS session_log,
          (SELECT count() FROM sessions FINAL) AS sessions,
          (SELECT sum(events) FROM events_rollup WHERE dim = '') AS events_rollup,
          (SELECT sum(events) FROM events_rollup_days WHERE dim = '' AND span = 1) AS events_rollup_days,
          (SELECT sum(visits) FROM sessions_rollup WHERE dim = '') AS sessions_rollup`,
      },
    );
    expect(result.failed).toBeUndefined();
    expect(result.engines).toEqual(
      Object.keys(SHARDING_KEYS)
        .sort()
        .map((name) => ({ name, engine: "Distributed" })),
    );
    expect(result.counts).toEqual([
      { events: 1, session_log: 1, sessions: 1, events_rollup: 1, events_rollup_days: 1, sessions_rollup: 1 },
    ]);
  });
});

describe("npm run migrate -- --print", () => {
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, ["scripts/migrate.ts", "--print", ...args], {
      encoding: "utf8",
      env: { ...process.env, CLICKHOUSE_CLUSTER: "", CLICKHOUSE_TARGET: "", CLICKHOUSE_DATABASE: "" },
    });
  const blocks = (out: string) => out.trim().split("\n\n");

  it("prints the cluster's statements, each file under its header", () => {
    const { stdout, status } = cli("--target", "cluster", "--cluster", "prod_eu");
    expect(status).toBe(0);
    const statements = blocks(stdout).filter((b) => !b.startsWith("-- "));
    expect(blocks(stdout).filter((b) => b.startsWith("-- "))).toEqual(migrations.map((m) => `-- ${m.name}`));
    expect(statements).toHaveLength(rendered(CLUSTER).length);
    for (const statement of statements) expect(statement).toMatch(/;$/);
    expect(statements[1]).toBe(
      "CREATE TABLE IF NOT EXISTS events ON CLUSTER 'prod_eu' AS events_local\nENGINE = Distributed('prod_eu', 'default', 'events_local', cityHash64(client_id));",
    );
    expect(statements).toContain("DROP TABLE IF EXISTS events_rollup_local ON CLUSTER 'prod_eu' SYNC;");
    expect(stdout).toContain(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_from_log ON CLUSTER 'prod_eu' TO sessions_local AS",
    );
  });

  it("prints one server's statements exactly as the files hold them", () => {
    const { stdout, status } = cli("--target", "single");
    expect(status).toBe(0);
    expect(blocks(stdout).filter((b) => !b.startsWith("-- "))).toEqual(fileStatements.map((s) => `${s};`));
  });

  it("prints the users with placeholders, and refuses an unknown target", () => {
    const users = cli("--users", "--target", "cloud", "--database", "analytics");
    expect(users.stdout).toContain("GRANT SELECT ON analytics.* TO tally_query;");
    expect(users.stdout).toContain("BY '<sha256 hex of the tally_writer password>'");
    const wrong = cli("--target", "mainframe");
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('unknown ClickHouse target "mainframe"');
  });
});

describe("the users' SQL", () => {
  it("names only settings the engine knows, with values it accepts, and no password", async () => {
    const profile = accessStatements({ kind: "single" }, "tally_db").find((s) =>
      s.startsWith("CREATE SETTINGS PROFILE"),
    );
    const settings = [...(profile ?? "").matchAll(/(\w+) = ('?\w+'?)/g)].map((m) => `${m[1]} = ${m[2]}`);
    expect(settings).toHaveLength(5);
    // chDB's access storage is read-only (users.xml), so CREATE USER cannot run here; SETTINGS can.
    await expect(
      rows(client, `SELECT 1 AS one SETTINGS ${settings.filter((s) => !s.startsWith("readonly")).join(", ")}`),
    ).resolves.toEqual([{ one: 1 }]);
    for (const statement of accessStatements(CLUSTER, "tally_db")) expect(statement).not.toMatch(/BY '(?!<sha256)/);
  });
});
