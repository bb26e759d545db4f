/**
 * Applies numbered SQL migrations (`NNNN_name.sql`) in order and records each in
 * `schema_migrations`, so running it again applies nothing. An applied migration whose file has
 * changed is an error: migrations are history, new changes get a new number.
 *
 * A migration interrupted halfway (Ctrl-C during `npm run dev`'s first start) resumes where it
 * stopped: each statement is recorded in `schema_migration_steps` as it completes, and a CREATE
 * that finds its object already there (done, but stopped before it was recorded) counts as done.
 *
 * One runner, several databases: a MigrationTarget keeps the ledger and runs statements in its
 * own dialect (ClickHouse: clickhouse-target.ts; PostgreSQL and Redshift: postgres-target.ts).
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { sha256Hex } from "../core/hash.ts";
import { clickHouseTarget } from "./clickhouse-target.ts";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrationReport {
  applied: string[];
  skipped: string[];
}

/** The databases migrations run on; `-- target: <dialect>` marks a statement as one dialect's only. */
export const DIALECTS = ["clickhouse", "postgres", "redshift"] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

/** A database's ledger (`schema_migrations`, `schema_migration_steps`) and how it runs a statement. */
export interface MigrationTarget {
  readonly dialect: Dialect;
  /** Creates both ledger tables unless they exist. */
  prepareLedger(): Promise<void>;
  applied(): Promise<AppliedMigration[]>;
  /** The steps recorded for this version with this checksum (an interrupted run's). */
  stepsDone(version: number, checksum: string): Promise<Set<number>>;
  /**
   * The statements one statement of a file becomes on this database (ClickHouse: one server, a
   * cluster or Cloud; clickhouse-render.ts); as written when absent. Throws for one it cannot render.
   */
  render?(statement: string): string[];
  /** Runs one statement; a CREATE whose object already exists counts as done (see the header). */
  run(statement: string): Promise<void>;
  recordStep(version: number, step: number, checksum: string): Promise<void>;
  recordMigration(migration: AppliedMigration): Promise<void>;
}

/** One statement of a migration, and the one dialect it is for when a `-- target:` line marks it. */
export interface Statement {
  sql: string;
  target?: Dialect;
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
  return parseStatements(sql).map((s) => s.sql);
}

const TARGET_LINE = /^--\s*target\s*:\s*(\S*)\s*$/i;
/** PostgreSQL's dollar quoting (`$$ … $$`, `$body$ … $body$`), whose bodies may hold `;` at a line's end. */
const DOLLAR_QUOTE = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/;

/**
 * splitStatements, keeping each statement's `-- target: <dialect>` line: a comment line of that form
 * before a statement makes it run only on that dialect (Redshift lacks some of PostgreSQL's
 * features and has its own, e.g. DISTKEY/SORTKEY); unmarked statements run everywhere.
 * Dollar-quoted bodies (functions, DO blocks) are refused: splitting at `;` would cut them.
 */
export function parseStatements(sql: string): Statement[] {
  const statements: Statement[] = [];
  let lines: string[] = [];
  let target: Dialect | undefined;
  const end = () => {
    const text = lines.join("\n").trim();
    if (text && DOLLAR_QUOTE.test(text))
      throw new Error(`dollar-quoted bodies are not supported in migrations (a ";" inside would split them): ${text}`);
    if (text) statements.push(target ? { sql: text, target } : { sql: text });
    else if (target) throw new Error(`"-- target: ${target}" is followed by no statement`);
    lines = [];
    target = undefined;
  };
  for (const line of sql.split("\n")) {
    const trimmed = line.trim();
    if (trimmed.startsWith("--")) {
      const marker = TARGET_LINE.exec(trimmed);
      if (!marker) continue;
      const name = (marker[1] ?? "").toLowerCase();
      if (!isDialect(name)) throw new Error(`"${trimmed}": the target must be one of ${DIALECTS.join(", ")}`);
      if (lines.join("").trim() !== "") throw new Error(`"${trimmed}" must come before a statement, not inside one`);
      if (target && target !== name) throw new Error(`"${trimmed}": this statement is already for ${target} only`);
      target = name;
      continue;
    }
    const terminator = /;\s*$/.exec(line);
    lines.push(terminator ? line.slice(0, terminator.index) : line);
    if (terminator) end();
  }
  end();
  return statements;
}

function isDialect(name: string): name is Dialect {
  return (DIALECTS as readonly string[]).includes(name);
}

/**
 * Applies every pending migration in order; safe to run any number of times. Takes a target, or a
 * ClickHouse client (the ClickHouse target, as every caller before the warehouse passed).
 */
export async function migrate(
  into: MigrationTarget | ClickHouseClient,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  const target = "recordMigration" in into ? into : clickHouseTarget(into);
  await target.prepareLedger();
  const applied = new Map((await target.applied()).map((r) => [r.version, r]));
  const pending = migrations.filter((m) => !applied.has(m.version));
  // Every pending file parses and renders before any runs: a bad marker, or a statement the target
  // cannot render, stops the run with nothing half-done.
  const render = (statement: Statement): Statement[] =>
    statement.target && statement.target !== target.dialect
      ? [statement]
      : (target.render?.(statement.sql) ?? [statement.sql]).map((sql) => ({ ...statement, sql }));
  const statements = new Map(pending.map((m) => [m.version, parseStatements(m.sql).map(render)]));
  const report: MigrationReport = { applied: [], skipped: [] };
  for (const migration of migrations) {
    const sum = await sha256Hex(migration.sql);
    const done = applied.get(migration.version);
    if (done) {
      if (done.checksum !== sum)
        throw new Error(`migration ${migration.name} changed after it was applied; add a new migration instead`);
      report.skipped.push(migration.name);
      continue;
    }
    const steps = await target.stepsDone(migration.version, sum);
    // Steps count every statement of the file, marked or not, so a step is the same on every target.
    for (const [step, rendered] of (statements.get(migration.version) ?? []).entries()) {
      if (steps.has(step) || rendered.some((s) => s.target && s.target !== target.dialect)) continue;
      // A step is the file's statement: rendered into several, all run before it is recorded.
      for (const statement of rendered) await target.run(statement.sql);
      await target.recordStep(migration.version, step, sum);
    }
    await target.recordMigration({ version: migration.version, name: migration.name, checksum: sum });
    report.applied.push(migration.name);
  }
  return report;
}
