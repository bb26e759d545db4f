import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../core/hash.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { migrate, splitStatements } from "../../migrations/migrator.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

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
