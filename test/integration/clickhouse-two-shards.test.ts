/**
 * The query API on a two-shard cluster (issue #19 review): its IN and JOIN subqueries read
 * `sessions`/`events` inside queries on `events`/`sessions`, Distributed tables all, which
 * ClickHouse refuses on more than one shard unless told how (Code 288). With the settings
 * querySettings sends for CLICKHOUSE_CLUSTER (distributed_product_mode = local) each shard runs
 * them on its own tables, and the answers equal one server's on the same rows.
 *
 * The cluster is one chDB in a child process (one engine per process) whose cluster `tally` has two
 * shards, both this engine (chDB serves no TCP, so a shard must be local). Each shard's `_local`
 * tables are the same tables, so every read of one is filtered (additional_table_filters) to the
 * rows its Distributed table's sharding key sent to that shard: `key % 2 = shardNum() - 1`, as the
 * Distributed engine splits with two shards of weight 1. A subquery that matched rows of another
 * shard would then miss them here as it would on real shards, and the answers would differ.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../core/config.ts";
import type { Event } from "../../core/event.ts";
import type { ResolvedQuery } from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { replay } from "../../dev/fixtures/dataset.ts";
import { renderStatement } from "../../migrations/clickhouse-render.ts";
import { SHARDING_KEYS, type Topology } from "../../migrations/clickhouse-topology.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { parseStatements } from "../../migrations/migrator.ts";
import { querySettings } from "../../platform/clickhouse.ts";
import { at, ev, NOW, raw, resolve } from "./query-engine-support.ts";

const CLUSTER: Topology = { kind: "cluster", cluster: "tally", database: "tally_db" };
const fileStatements = readClickHouseMigrations().flatMap((m) => parseStatements(m.sql).map((s) => s.sql));

/** The cluster's DDL as one node without Keeper runs it: no ON CLUSTER, the engines unreplicated. */
const withoutKeeper = (statement: string) =>
  statement
    .replaceAll(" ON CLUSTER 'tally'", "")
    .replace(/Replicated(\w*MergeTree)\('[^']*', '\{replica\}'(?:, )?/, "$1(")
    .replaceAll("replicated_deduplication_window", "non_replicated_deduplication_window");

/** The rows each emulated shard sees: its sharding key's half; the rollups (written by views wherever their source landed) all on shard 1. */
const SHARD_FILTERS = Object.fromEntries(
  Object.entries(SHARDING_KEYS).map(([table, key]) => [
    `tally_db.${table}_local`,
    /_rollup/.test(table) ? "shardNum() = 1" : `${key} % 2 = shardNum() - 1`,
  ]),
);

const quote = (v: string) => `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
/** A query parameter's value as ClickHouse's HTTP interface takes it (`param_x`): the builders' String, Int64, UInt32 and Array(String). */
const paramText = (v: string | number | string[]) =>
  Array.isArray(v)
    ? `[${v.map(quote).join(",")}]`
    : String(v).replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n");
const assignments = (settings: Record<string, unknown>) =>
  Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === "number" ? v : quote(String(v))}`);
const filtersSetting = `additional_table_filters = {${Object.entries(SHARD_FILTERS)
  .map(([t, f]) => `${quote(t)}: ${quote(f)}`)
  .join(", ")}}`;

interface Statement {
  database: string;
  sql: string;
  /** SET assignments before it, in order (each SET its own statement). */
  sets: string[];
}
type Outcome = { rows: Record<string, unknown>[] } | { error: string };

/** Runs setup statements then each query on its own session, in a child chDB configured as the two-shard cluster `tally`. */
function runTwoShards(setup: Statement[], queries: Record<string, Statement>): Record<string, Outcome> {
  const dir = mkdtempSync(join(tmpdir(), "tally-two-shards-"));
  try {
    // Two hosts that both resolve to this machine on the configured port: two shards, both local.
    const replica = (host: string) => `<shard><replica><host>${host}</host><port>9000</port></replica></shard>`;
    writeFileSync(
      join(dir, "config.xml"),
      `<clickhouse><tcp_port>9000</tcp_port><remote_servers><tally>${replica("127.0.0.1")}${replica("localhost")}</tally></remote_servers></clickhouse>`,
    );
    writeFileSync(join(dir, "input.json"), JSON.stringify({ setup, queries }));
    const script = `
      import { readFileSync } from "node:fs";
      import { Session } from "chdb";
      const dir = process.env.TWO_SHARDS_DIR;
      const { setup, queries } = JSON.parse(readFileSync(dir + "/input.json", "utf8"));
      const open = () => new Session(dir + "/data", { connectionArgs: ["--config-file=" + dir + "/config.xml"] });
      const run = (session, s, format) => {
        session.query("USE " + s.database);
        for (const set of s.sets) session.query("SET " + set);
        return session.query(s.sql, format);
      };
      const boot = open();
      boot.query("CREATE DATABASE tally_db; CREATE DATABASE single_db");
      for (const s of setup) {
        try { run(boot, s); }
        catch (e) { console.log(JSON.stringify({ setupFailed: s.sql.slice(0, 300), error: String(e) })); process.exit(0); }
      }
      const out = {};
      for (const [name, s] of Object.entries(queries)) {
        const session = open();
        try { out[name] = { rows: JSON.parse(run(session, s, "JSON")).data }; }
        catch (e) { out[name] = { error: String(e) }; }
        finally { session.close(); }
      }
      console.log(JSON.stringify(out));`;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, TWO_SHARDS_DIR: dir },
      maxBuffer: 64 * 1024 * 1024,
    });
    if (child.status !== 0) throw new Error(child.stderr);
    const result = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, Outcome> & {
      setupFailed?: string;
      error?: string;
    };
    if (result.setupFailed) throw new Error(`${result.setupFailed}: ${result.error}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Ten visitors, each with one to three visits, some from Google, some signing up, some reading the blog. */
function dataset() {
  const events = Array.from({ length: 10 }, (_, v) => {
    const client = `v${v}`;
    const visits = 1 + (v % 3);
    return Array.from({ length: visits }, (_, n) => {
      const start = at(8 + 4 * n, v);
      const first: Partial<Event> = {
        source: v % 2 === 0 ? "Google" : "",
        device_type: v % 4 === 0 ? "mobile" : "desktop",
      };
      return [
        ev(client, `${client}-${n}-a`, start, n === 0 ? first : {}),
        ...(v % 3 !== 1 ? [ev(client, `${client}-${n}-b`, start + 60_000, { page_path: `/blog/${v}` })] : []),
        ...(v % 4 === 1 && n === visits - 1
          ? [ev(client, `${client}-${n}-c`, start + 120_000, { event_type: "signup" })]
          : []),
      ];
    }).flat();
  }).flat();
  return replay(events);
}

const cluster = ConfigSchema.parse({ CLICKHOUSE_URL: "http://localhost:8123", CLICKHOUSE_CLUSTER: "tally" });
const single = ConfigSchema.parse({ CLICKHOUSE_URL: "http://localhost:8123" });

/** The query-API statements under test, built by the real builders (raw legs, or as planned). */
const QUERIES: Record<string, { q: ResolvedQuery; force?: (p: Plan) => Plan; refusedWithout?: true }> = {
  // events leg, a session dimension as a filter: `session_id IN (SELECT … FROM sessions FINAL …)`
  sessionFiltered: {
    q: resolve({ metrics: ["visitors", "pageviews"], filters: [["is", "visit:source", ["Google"]]] }),
    force: raw,
    refusedWithout: true,
  },
  // sessions leg, an event dimension as a filter: `session_id IN (SELECT … FROM events …)`
  pageFiltered: {
    q: resolve({ metrics: ["visits", "bounce_rate"], filters: [["contains", "event:page", ["/blog"]]] }),
    force: raw,
    refusedWithout: true,
  },
  // events LEFT JOIN sessions for a session dimension on the events leg
  sourceBreakdown: { q: resolve({ metrics: ["pageviews", "visitors"], dimensions: ["visit:source"] }), force: raw },
  // sessions FINAL LEFT JOIN each visitor's first session, `client_id IN (SELECT … FROM sessions …)`
  visitorType: {
    q: resolve({ metrics: ["visitors", "visits"], dimensions: ["visit:visitor_type"] }),
    refusedWithout: true,
  },
  // a goal on the sessions leg: `session_id IN (SELECT … FROM events WHERE <goal>)`
  goalConversion: {
    q: resolve({
      metrics: ["visitors", "visits", "bounce_rate", "conversion_rate"],
      filters: [["is", "event:goal", ["Signup"]]],
    }),
    refusedWithout: true,
  },
  // the overview, on raw tables and as planned (rollups)
  overviewRaw: {
    q: resolve({ metrics: ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration"] }),
    force: raw,
  },
  overview: { q: resolve({ metrics: ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration"] }) },
};

let outcomes: Record<string, Outcome>;

beforeAll(() => {
  const data = dataset();
  const inserts = (database: string, sets: string[]) =>
    (
      [
        ["events", data.events],
        ["session_log", data.sessionLog],
      ] as const
    ).map(([table, rows]) => ({
      database,
      sets,
      sql: `INSERT INTO ${table} FORMAT JSONEachRow ${rows.map((r) => JSON.stringify(r)).join("\n")}`,
    }));
  const setup: Statement[] = [
    ...fileStatements
      .flatMap((s) => renderStatement(s, CLUSTER))
      .map((sql) => ({ database: "tally_db", sets: [], sql: withoutKeeper(sql) })),
    ...fileStatements.map((sql) => ({ database: "single_db", sets: [], sql })),
    ...inserts("tally_db", ["distributed_foreground_insert = 1"]),
    ...inserts("single_db", []),
  ];
  const queries: Record<string, Statement> = {
    shards: {
      database: "tally_db",
      sets: [filtersSetting],
      sql: "SELECT _shard_num AS shard, uniqExact(client_id) AS visitors, count() AS events FROM events GROUP BY shard ORDER BY shard",
    },
    counts: {
      database: "single_db",
      sets: [],
      sql: "SELECT uniqExact(client_id) AS visitors, count() AS events FROM events",
    },
  };
  for (const [name, { q, force }] of Object.entries(QUERIES)) {
    const planned = planQuery(q, NOW, 90);
    const built = buildQuerySql(q, force ? force(planned) : planned);
    const params = Object.entries(built.params).map(([k, v]) => `param_${k} = ${quote(paramText(v))}`);
    const on = (database: string, config: typeof cluster, filtered: boolean) => ({
      database,
      sql: built.sql,
      sets: [
        ...(filtered ? [filtersSetting] : []),
        ...params,
        // As the query user's profile would hold it: the settings below are then sent under readonly = 2.
        "readonly = 2",
        ...assignments({ ...built.settings, ...querySettings(config) }),
      ],
    });
    queries[`${name}:single`] = on("single_db", single, false);
    queries[`${name}:cluster`] = on("tally_db", cluster, true);
    queries[`${name}:cluster without the setting`] = on("tally_db", single, true);
  }
  outcomes = runTwoShards(setup, queries);
}, 240_000);

const rowsOf = (name: string) => {
  const outcome = outcomes[name];
  if (!outcome || !("rows" in outcome)) throw new Error(`${name}: ${outcome ? outcome.error : "not run"}`);
  return outcome.rows;
};

describe("the query API on two shards", () => {
  it("spreads the visitors over both shards, each row once", () => {
    const shards = rowsOf("shards");
    expect(shards.map((r) => Number(r.shard))).toEqual([1, 2]);
    for (const r of shards) expect(Number(r.visitors)).toBeGreaterThanOrEqual(2);
    const [all] = rowsOf("counts");
    expect(shards.reduce((n, r) => n + Number(r.visitors), 0)).toBe(Number(all?.visitors));
    expect(shards.reduce((n, r) => n + Number(r.events), 0)).toBe(Number(all?.events));
  });

  it("covers the raw tables and, planned, the rollups", () => {
    const tables = (name: string) => planQuery(QUERIES[name]?.q ?? expect.fail(name), NOW, 90).legs.map((l) => l.table);
    expect(tables("overview").every((t) => t.endsWith("_rollup"))).toBe(true);
    expect(tables("visitorType")).toEqual(["sessions"]);
  });

  for (const [name, { refusedWithout }] of Object.entries(QUERIES))
    it(`${name}: answers on the cluster with querySettings as one server does${refusedWithout ? ", and is refused (288) without them" : ""}`, () => {
      const expected = rowsOf(`${name}:single`);
      expect(expected.length).toBeGreaterThan(0);
      expect(rowsOf(`${name}:cluster`)).toEqual(expected);
      const without = outcomes[`${name}:cluster without the setting`];
      if (refusedWithout) expect(without && "error" in without ? without.error : "answered").toMatch(/Code: 288\b/);
      // A JOIN whose right side is a subquery is read whole by the initiator, no IN over a shard's rows.
      else expect(without).toEqual({ rows: expected });
    });
});
