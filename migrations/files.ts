/** Reads migrations from disk (Node: the migrate script, dev stack and tests). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Migration, toMigrations } from "./migrator.ts";

export const CLICKHOUSE_MIGRATIONS_DIR = fileURLToPath(new URL("./clickhouse/", import.meta.url));
export const WAREHOUSE_MIGRATIONS_DIR = fileURLToPath(new URL("./warehouse/", import.meta.url));

/** All ClickHouse migrations in version order. */
export function readClickHouseMigrations(dir = CLICKHOUSE_MIGRATIONS_DIR): Migration[] {
  return readMigrations(dir);
}

/** All warehouse (PostgreSQL/Redshift) migrations in version order; none while the folder does not exist. */
export function readWarehouseMigrations(dir = WAREHOUSE_MIGRATIONS_DIR): Migration[] {
  return existsSync(dir) ? readMigrations(dir) : [];
}

function readMigrations(dir: string): Migration[] {
  const files: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")))
    files[file] = readFileSync(join(dir, file), "utf8");
  return toMigrations(files);
}
