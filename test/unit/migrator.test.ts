import { describe, expect, it } from "vitest";
import { readClickHouseMigrations, readWarehouseMigrations } from "../../migrations/files.ts";
import {
  type AppliedMigration,
  type Dialect,
  type MigrationTarget,
  migrate,
  parseStatements,
  splitStatements,
  toMigrations,
} from "../../migrations/migrator.ts";

describe("migrations", () => {
  it("orders files by their number", () => {
    const migrations = toMigrations({ "0002_b.sql": "B", "0001_a.sql": "A" });
    expect(migrations.map((m) => m.name)).toEqual(["0001_a.sql", "0002_b.sql"]);
  });

  it("refuses misnamed and duplicate versions", () => {
    expect(() => toMigrations({ "events.sql": "" })).toThrow(/NNNN_snake_name/);
    expect(() => toMigrations({ "0001_a.sql": "", "0001_b.sql": "" })).toThrow(/two migrations have version 1/);
  });

  it("splits statements at line-ending semicolons and drops comment lines", () => {
    const sql = "-- note; not a statement\nCREATE TABLE a (x String);\n\nALTER TABLE a ADD COLUMN y String;\n";
    expect(splitStatements(sql)).toEqual(["CREATE TABLE a (x String)", "ALTER TABLE a ADD COLUMN y String"]);
  });

  it("splits only at a line's end: a ; inside a line stays, trailing text without ; is a statement", () => {
    expect(splitStatements("SELECT ';' AS a; SELECT 2;\r\nSELECT 3 ;  \nSELECT 4")).toEqual([
      "SELECT ';' AS a; SELECT 2",
      "SELECT 3",
      "SELECT 4",
    ]);
  });

  it("reads the repository's migrations, starting with 0001_events.sql", () => {
    const migrations = readClickHouseMigrations();
    expect(migrations[0]?.name).toBe("0001_events.sql");
    expect(splitStatements(migrations[0]?.sql ?? "")).toHaveLength(1);
  });

  it("reads the warehouse's migrations (none for a folder that does not exist)", () => {
    for (const m of readWarehouseMigrations()) expect(() => parseStatements(m.sql), m.name).not.toThrow();
    expect(readWarehouseMigrations("/nonexistent/warehouse/")).toEqual([]);
  });
});

describe("-- target: markers", () => {
  const sql = [
    "-- The events table, per engine.",
    "-- target: postgres",
    "CREATE TABLE e (x int);",
    "",
    "-- Redshift spreads rows by session.",
    "--target:Redshift",
    "CREATE TABLE e (x int) DISTKEY(x);",
    "CREATE TABLE both_engines (y int);",
    "-- target: postgres",
    "CREATE INDEX e_x ON e (x);",
  ].join("\n");

  it("mark the next statement as one dialect's, comments between them or not", () => {
    expect(parseStatements(sql)).toEqual([
      { sql: "CREATE TABLE e (x int)", target: "postgres" },
      { sql: "CREATE TABLE e (x int) DISTKEY(x)", target: "redshift" },
      { sql: "CREATE TABLE both_engines (y int)" },
      { sql: "CREATE INDEX e_x ON e (x)", target: "postgres" },
    ]);
    expect(splitStatements(sql)).toHaveLength(4);
  });

  it("run a statement only on its dialect; unmarked ones everywhere; steps count every statement", async () => {
    const migrations = toMigrations({ "0001_e.sql": sql });
    const postgres = fakeTarget("postgres");
    await migrate(postgres, migrations);
    expect(postgres.ran).toEqual([
      "CREATE TABLE e (x int)",
      "CREATE TABLE both_engines (y int)",
      "CREATE INDEX e_x ON e (x)",
    ]);
    expect(postgres.steps).toEqual([0, 2, 3]);
    const redshift = fakeTarget("redshift");
    await migrate(redshift, migrations);
    expect(redshift.ran).toEqual(["CREATE TABLE e (x int) DISTKEY(x)", "CREATE TABLE both_engines (y int)"]);
    expect(redshift.steps).toEqual([1, 2]);
  });

  it("refuse an unknown target, a marker inside a statement, two targets, and a marker with no statement", () => {
    expect(() => parseStatements("-- target: mysql\nSELECT 1;")).toThrow(
      /must be one of clickhouse, postgres, redshift/,
    );
    expect(() => parseStatements("CREATE TABLE t\n-- target: postgres\n(x int);")).toThrow(/before a statement/);
    expect(() => parseStatements("-- target: postgres\n-- target: redshift\nSELECT 1;")).toThrow(
      /already for postgres/,
    );
    expect(() => parseStatements("SELECT 1;\n-- target: redshift\n")).toThrow(/followed by no statement/);
  });

  it("leave other comments alone, even ones that mention targets", () => {
    expect(parseStatements("-- statements marked `-- target:` run there only\n-- target redshift\nSELECT 1;")).toEqual([
      { sql: "SELECT 1" },
    ]);
  });

  it("refuse dollar-quoted bodies, which a ; at a line's end would cut", () => {
    const fn = "CREATE FUNCTION f() RETURNS int AS $$\n  SELECT 1;\n$$ LANGUAGE sql;";
    expect(() => parseStatements(fn)).toThrow(/dollar-quoted/);
    expect(() => parseStatements("DO $body$ BEGIN PERFORM 1; END $body$;")).toThrow(/dollar-quoted/);
  });

  it("check every pending file before running any statement", async () => {
    const target = fakeTarget("postgres");
    const files = { "0001_ok.sql": "CREATE TABLE a (x int);", "0002_bad.sql": "-- target: oracle\nSELECT 1;" };
    await expect(migrate(target, toMigrations(files))).rejects.toThrow(/oracle/);
    expect(target.ran).toEqual([]);
  });
});

/** A target that records what the runner asks of it. */
function fakeTarget(dialect: Dialect): MigrationTarget & { ran: string[]; steps: number[] } {
  const migrations: AppliedMigration[] = [];
  const ran: string[] = [];
  const steps: number[] = [];
  return {
    dialect,
    ran,
    steps,
    prepareLedger: async () => undefined,
    applied: async () => migrations,
    stepsDone: async () => new Set(),
    run: async (statement) => {
      ran.push(statement);
    },
    recordStep: async (_version, step) => {
      steps.push(step);
    },
    recordMigration: async (m) => {
      migrations.push(m);
    },
  };
}
