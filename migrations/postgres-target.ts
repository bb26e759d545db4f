/**
 * The migrator on the warehouse: PostgreSQL (development, tests) and Redshift (production), which
 * speak the same protocol. The ledger has the ClickHouse ledger's tables and columns, in types both
 * accept; `-- target: postgres` and `-- target: redshift` statements run only on their own.
 *
 * Each statement runs on its own (autocommit), as on ClickHouse, rather than in a transaction with
 * its step record: Redshift refuses some DDL inside transactions (e.g. external tables), and the
 * runner already resumes an interrupted run by tolerating CREATEs that were done.
 */
import pg from "pg";
import {
  type AppliedMigration,
  type Migration,
  type MigrationReport,
  type MigrationTarget,
  migrate,
} from "./migrator.ts";

/** What the target needs of a connection: a pg Client, PoolClient or Pool. */
export type Queryable = Pick<pg.ClientBase, "query">;

/**
 * SQLSTATEs of a CREATE whose object exists: 42P07 duplicate_table (also indexes, views, sequences),
 * 42710 duplicate_object (types, constraints, triggers), 42P06 duplicate_schema, 42723 duplicate_function.
 */
const ALREADY_EXISTS = new Set(["42P07", "42710", "42P06", "42723"]);

/** A target on this connection; asks the server whether it is Redshift (its version() says so). */
export async function postgresTarget(client: Queryable): Promise<MigrationTarget> {
  const { rows } = await client.query<{ version: string }>("SELECT version() AS version");
  const dialect = rows[0]?.version.includes("Redshift") ? "redshift" : "postgres";
  return {
    dialect,
    async prepareLedger() {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations
        (version integer NOT NULL PRIMARY KEY, name varchar(256) NOT NULL, checksum varchar(64) NOT NULL,
         applied_at timestamptz NOT NULL)`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migration_steps
        (version integer NOT NULL, step integer NOT NULL, checksum varchar(64) NOT NULL, done_at timestamptz NOT NULL,
         PRIMARY KEY (version, step, checksum))`);
    },
    async applied() {
      const result = await client.query<AppliedMigration>("SELECT version, name, checksum FROM schema_migrations");
      return result.rows;
    },
    async stepsDone(version, checksum) {
      const result = await client.query<{ step: number }>(
        "SELECT step FROM schema_migration_steps WHERE version = $1 AND checksum = $2",
        [version, checksum],
      );
      return new Set(result.rows.map((r) => Number(r.step)));
    },
    async run(statement) {
      try {
        await client.query(statement);
      } catch (error) {
        const created = /^CREATE\b/i.test(statement);
        if (!(created && error instanceof pg.DatabaseError && ALREADY_EXISTS.has(error.code ?? ""))) throw error;
      }
    },
    // The time comes from here, not a column DEFAULT: Redshift's and PostgreSQL's clock functions differ.
    async recordStep(version, step, checksum) {
      await client.query(
        "INSERT INTO schema_migration_steps (version, step, checksum, done_at) VALUES ($1, $2, $3, $4)",
        [version, step, checksum, new Date()],
      );
    },
    async recordMigration({ version, name, checksum }) {
      await client.query(
        "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        [version, name, checksum, new Date()],
      );
    },
  };
}

/**
 * Connects to `url` (`postgres://user:password@host:port/db`; `?sslmode=require` for Redshift),
 * applies the pending migrations, disconnects.
 */
export async function migrateWarehouse(url: string, migrations: readonly Migration[]): Promise<MigrationReport> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined); // a dropped idle connection: the next query rejects and says why
  await client.connect();
  try {
    return await migrate(await postgresTarget(client), migrations);
  } finally {
    await client.end();
  }
}
