/** Reads `migrations/clickhouse/*.sql` from disk (Node: the migrate script, dev stack and tests). */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Migration, toMigrations } from "./migrator.ts";

export const CLICKHOUSE_MIGRATIONS_DIR = new URL("./clickhouse/", import.meta.url).pathname;

/** All ClickHouse migrations in version order. */
export function readClickHouseMigrations(dir = CLICKHOUSE_MIGRATIONS_DIR): Migration[] {
  const files: Record<string, string> = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sql")))
    files[file] = readFileSync(join(dir, file), "utf8");
  return toMigrations(files);
}
