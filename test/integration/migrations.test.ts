import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/hash.ts";
import { readClickHouseMigrations, readWarehouseMigrations } from "../../migrations/files.ts";
import { type Migration, migrate, splitStatements } from "../../migrations/migrator.ts";
import { migrateWarehouse, postgresTarget } from "../../migrations/postgres-target.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

describe("npm run migrate (migrations/migrator.ts) against the real engine", () => {
  it("applies every migration once, and a second run applies nothing", async () => {
    const { client } = await freshDatabase("migrate", { migrated: false });
    const migrations = readClickHouseMigrations();
    const first = await migrate(client, migrations);
    expect(first.applied).toEqual(migrations.map((m) => m.name));
    const second = await migrate(client, migrations);
    expect(second).toEqual({ applied: [], skipped: migrations.map((m) => m.name) });
    expect(await rows(client, "SELECT name FROM schema_migrations ORDER BY version")).toEqual(
      migrations.map((m) => ({ name: m.name })),
    );
  });

  it("resumes a migration interrupted halfway (Ctrl-C on a first start) and ends as a clean run does", async () => {
    const migrations = readClickHouseMigrations();
    const at = migrations.findIndex((m) => m.name === "0006_day_rollups.sql");
    const last = migrations[at];
    if (!last) throw new Error("no 0006 migration");
    const statements = splitStatements(last.sql);
    // Interrupted in the day-rollups migration, right after a CREATE completed but before it was recorded.
    const cut = statements.findIndex((s) => /^CREATE TABLE events_rollup_days\b/.test(s)) + 1;
    expect(cut).toBeGreaterThan(1);
    const { client } = await freshDatabase("migrate", { migrated: false });
    await migrate(client, migrations.slice(0, at));
    const sum = await sha256Hex(last.sql);
    for (const [step, statement] of statements.slice(0, cut).entries()) {
      await client.command({ query: statement });
      if (step < cut - 1)
        await client.insert({
          table: "schema_migration_steps",
          values: [{ version: last.version, step, checksum: sum }],
          format: "JSONEachRow",
        });
    }
    const resumed = await migrate(client, migrations);
    expect(resumed.applied).toEqual(migrations.slice(at).map((m) => m.name));
    const clean = await freshDatabase("migrate");
    const schema = (c: typeof client) =>
      rows(c, "SELECT name, engine, sorting_key FROM system.tables WHERE database = currentDatabase() ORDER BY name");
    expect(await schema(client)).toEqual(await schema(clean.client));
    expect((await migrate(client, migrations)).applied).toEqual([]);
  });

  it("refuses to run when an applied migration's file has changed", async () => {
    const { client } = await freshDatabase("migrate", { migrated: false });
    await migrate(client, [
      { version: 1, name: "0001_t.sql", sql: "CREATE TABLE t (x String) ENGINE = MergeTree ORDER BY x" },
    ]);
    await expect(
      migrate(client, [
        { version: 1, name: "0001_t.sql", sql: "CREATE TABLE t (y String) ENGINE = MergeTree ORDER BY y" },
      ]),
    ).rejects.toThrow(/changed after it was applied/);
  });

  it("creates events with the spec's engine, partitioning, sort key, dedup window and indexes", async () => {
    const { client, database } = await freshDatabase("migrate");
    const [table] = await rows<{
      engine: string;
      partition_key: string;
      sorting_key: string;
      create_table_query: string;
    }>(
      client,
      "SELECT engine, partition_key, sorting_key, create_table_query FROM system.tables WHERE database = {db:String} AND name = 'events'",
      { db: database },
    );
    expect(table).toMatchObject({
      engine: "MergeTree",
      partition_key: "toYYYYMMDD(event_timestamp)",
      sorting_key: "property_id, event_timestamp, client_id",
    });
    expect(table?.create_table_query).toContain("non_replicated_deduplication_window = 10000");
    const indexes = await rows<{ name: string; type: string }>(
      client,
      "SELECT name, type FROM system.data_skipping_indices WHERE database = {db:String} AND table = 'events' ORDER BY name",
      { db: database },
    );
    expect(indexes).toEqual([
      { name: "idx_page_url", type: "tokenbf_v1" },
      { name: "idx_session_id", type: "bloom_filter" },
      { name: "idx_user_id", type: "bloom_filter" },
    ]);
  });
});

describe("npm run migrate on the warehouse (migrations/postgres-target.ts) against a real PostgreSQL", () => {
  /** Runs `fn` on a connection to `url`. */
  async function using<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const tables = (url: string) =>
    using(url, async (c) =>
      (
        await c.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        )
      ).rows.map((r) => r.table_name),
    );

  /** Files in a folder of their own, read as `npm run migrate` reads migrations/warehouse. */
  function migrationsDir(files: Record<string, string>): Migration[] {
    const dir = mkdtempSync(join(tmpdir(), "tally-warehouse-migrations-"));
    try {
      for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
      return readWarehouseMigrations(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  const FILES = {
    "0001_visits.sql": [
      "-- target: postgres",
      "CREATE TABLE visits (id varchar(64) NOT NULL, at timestamp NOT NULL, props json NOT NULL);",
      "-- Redshift has no json type and spreads rows by a key; PostgreSQL would refuse DISTKEY.",
      "-- target: redshift",
      "CREATE TABLE visits (id varchar(64) NOT NULL, at timestamp NOT NULL, props varchar(65535) NOT NULL) DISTKEY(id);",
      "-- target: postgres",
      "CREATE INDEX visits_at ON visits (at);",
    ].join("\n"),
    "0002_daily.sql": "CREATE TABLE daily (day date NOT NULL, visits bigint NOT NULL);\n",
  };

  it("applies every migration once, only its own dialect's statements, and a second run applies nothing", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    const migrations = migrationsDir(FILES);
    const first = await migrateWarehouse(url, migrations);
    expect(first).toEqual({ applied: ["0001_visits.sql", "0002_daily.sql"], skipped: [] });
    expect(await migrateWarehouse(url, migrations)).toEqual({
      applied: [],
      skipped: ["0001_visits.sql", "0002_daily.sql"],
    });
    expect(await tables(url)).toEqual(["daily", "schema_migration_steps", "schema_migrations", "visits"]);
    const ledger = await using(url, async (c) => ({
      migrations: (await c.query("SELECT version, name FROM schema_migrations ORDER BY version")).rows,
      steps: (await c.query("SELECT version, step FROM schema_migration_steps ORDER BY version, step")).rows,
      columns: (
        await c.query(
          "SELECT data_type FROM information_schema.columns WHERE table_name = 'visits' AND column_name = 'props'",
        )
      ).rows,
      indexes: (await c.query("SELECT indexname FROM pg_indexes WHERE tablename = 'visits'")).rows,
    }));
    expect(ledger).toEqual({
      migrations: [
        { version: 1, name: "0001_visits.sql" },
        { version: 2, name: "0002_daily.sql" },
      ],
      // Step 1 is Redshift's: recorded on Redshift only, so a step is the same statement on both.
      steps: [
        { version: 1, step: 0 },
        { version: 1, step: 2 },
        { version: 2, step: 0 },
      ],
      columns: [{ data_type: "json" }],
      indexes: [{ indexname: "visits_at" }],
    });
  });

  it("refuses to run when an applied migration's file has changed", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    await migrateWarehouse(url, migrationsDir(FILES));
    const changed = migrationsDir({ ...FILES, "0002_daily.sql": "CREATE TABLE daily (day date NOT NULL);\n" });
    await expect(migrateWarehouse(url, changed)).rejects.toThrow(/0002_daily.sql changed after it was applied/);
  });

  it("resumes a migration interrupted after a CREATE ran but before it was recorded", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    const migrations = migrationsDir(FILES);
    await using(url, (c) =>
      c.query("CREATE TABLE visits (id varchar(64) NOT NULL, at timestamp NOT NULL, props json NOT NULL)"),
    );
    expect((await migrateWarehouse(url, migrations)).applied).toEqual(["0001_visits.sql", "0002_daily.sql"]);
    expect(await tables(url)).toContain("daily");
  });

  it("stops at a failing statement, and a fixed file then applies", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    const broken = migrationsDir({ "0001_t.sql": "CREATE TABLE t (x int);\nALTER TABLE nope ADD COLUMN y int;\n" });
    await expect(migrateWarehouse(url, broken)).rejects.toThrow(/relation "nope" does not exist/);
    const fixed = migrationsDir({ "0001_t.sql": "CREATE TABLE t (x int);\nALTER TABLE t ADD COLUMN y int;\n" });
    expect((await migrateWarehouse(url, fixed)).applied).toEqual(["0001_t.sql"]);
  });

  it("knows PostgreSQL from Redshift by version()", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    expect(await using(url, async (c) => (await postgresTarget(c)).dialect)).toBe("postgres");
    const redshift = {
      query: async () => ({ rows: [{ version: "PostgreSQL 8.0.2 on i686-pc-linux-gnu, Redshift 1.0.77467" }] }),
    } as unknown as pg.Client;
    expect((await postgresTarget(redshift)).dialect).toBe("redshift");
  });

  it("applies the repository's migrations/warehouse twice: the second run applies nothing", async () => {
    const url = await freshWarehouse("migrate", { migrations: [] });
    const migrations = readWarehouseMigrations();
    expect((await migrateWarehouse(url, migrations)).applied).toEqual(migrations.map((m) => m.name));
    expect(await migrateWarehouse(url, migrations)).toEqual({ applied: [], skipped: migrations.map((m) => m.name) });
  });
});
