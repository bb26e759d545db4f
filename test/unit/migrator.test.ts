import { describe, expect, it } from "vitest";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { splitStatements, toMigrations } from "../../migrations/migrator.ts";

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

  it("reads the repository's migrations, starting with 0001_events.sql", () => {
    const migrations = readClickHouseMigrations();
    expect(migrations[0]?.name).toBe("0001_events.sql");
    expect(splitStatements(migrations[0]?.sql ?? "")).toHaveLength(1);
  });
});
