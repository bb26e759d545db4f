/**
 * Applies numbered SQL migrations (`NNNN_name.sql`) in order and records each in
 * `schema_migrations`, so running it again applies nothing. An applied migration whose file has
 * changed is an error: migrations are history, new changes get a new number.
 *
 * A migration interrupted halfway (Ctrl-C during `npm run dev`'s first start) resumes where it
 * stopped: each statement is recorded in `schema_migration_steps` as it completes, and a CREATE
 * that finds its object already there (done, but stopped before it was recorded) counts as done.
 */
import { type ClickHouseClient, ClickHouseError } from "@clickhouse/client-web";
import { sha256Hex } from "../core/hash.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Turns `{ "0001_events.sql": sql }` into ordered migrations, rejecting misnamed or duplicate files. */
export function toMigrations(files: Record<string, string>): Migration[] {
  const migrations = Object.entries(files).map(([file, sql]) => {
    const match = FILE_NAME.exec(file);
    if (!match) throw new Error(`migration file ${file} must be named NNNN_snake_name.sql`);
    return { version: Number(match[1]), name: file, sql };
  });
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (i > 0 && migrations[i - 1]?.version === m.version) throw new Error(`two migrations have version ${m.version}`);
  });
  return migrations;
}

/** Splits a file into statements: `;` at the end of a line ends one; `--` comment lines are dropped. */
export function splitStatements(sql: string): string[] {
  const withoutComments = sql
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n");
  return withoutComments
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const checksum = sha256Hex;

/** Applies every pending migration in order; safe to run any number of times. */
export async function migrate(client: ClickHouseClient, migrations: readonly Migration[]): Promise<MigrationReport> {
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migrations
      (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY version`,
  });
  await client.command({
    query: `CREATE TABLE IF NOT EXISTS schema_migration_steps
      (version UInt32, step UInt32, checksum String, done_at DateTime64(3, 'UTC') DEFAULT now64(3))
      ENGINE = MergeTree ORDER BY (version, step)`,
  });
  const result = await client.query({
    query: "SELECT version, name, checksum FROM schema_migrations",
    format: "JSONEachRow",
  });
  const applied = new Map(
    (await result.json<{ version: number; name: string; checksum: string }>()).map((r) => [r.version, r]),
  );
  const report: MigrationReport = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const sum = await checksum(migration.sql);
    const done = applied.get(migration.version);
    if (done) {
      if (done.checksum !== sum)
        throw new Error(`migration ${migration.name} changed after it was applied; add a new migration instead`);
      report.skipped.push(migration.name);
      continue;
    }
    const steps = await stepsDone(client, migration.version, sum);
    for (const [step, statement] of splitStatements(migration.sql).entries()) {
      if (steps.has(step)) continue;
      await runStatement(client, statement);
      await client.insert({
        table: "schema_migration_steps",
        values: [{ version: migration.version, step, checksum: sum }],
        format: "JSONEachRow",
      });
    }
    await client.insert({
      table: "schema_migrations",
      values: [{ version: migration.version, name: migration.name, checksum: sum }],
      format: "JSONEachRow",
    });
    report.applied.push(migration.name);
  }
  return report;
}

/** The statements of this version (and this text of it) that completed in an earlier, interrupted run. */
async function stepsDone(client: ClickHouseClient, version: number, sum: string): Promise<Set<number>> {
  const result = await client.query({
    query: "SELECT step FROM schema_migration_steps WHERE version = {v:UInt32} AND checksum = {c:String}",
    query_params: { v: version, c: sum },
    format: "JSONEachRow",
  });
  return new Set((await result.json<{ step: number }>()).map((r) => Number(r.step)));
}

/** ClickHouse's TABLE_ALREADY_EXISTS: also what a second CREATE of a view or dictionary answers. */
const ALREADY_EXISTS = "57";

/**
 * Runs one statement of a migration not yet recorded as applied. A CREATE whose object exists was
 * run by an interrupted earlier attempt of this same statement (migrations never change once
 * applied), so it is done; any other failure stops the run.
 */
async function runStatement(client: ClickHouseClient, statement: string): Promise<void> {
  try {
    await client.command({ query: statement });
  } catch (error) {
    const created = /^CREATE\b/i.test(statement);
    if (!(created && error instanceof ClickHouseError && error.code === ALREADY_EXISTS)) throw error;
  }
}
