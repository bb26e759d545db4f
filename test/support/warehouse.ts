/** Helpers for tests that talk to the run's embedded PostgreSQL warehouse (see global-setup.ts). */
import { inject } from "vitest";
import { ensureDatabase } from "../../dev/servers/warehouse-server.ts";
import { readWarehouseMigrations } from "../../migrations/files.ts";
import type { Migration } from "../../migrations/migrator.ts";
import { migrateWarehouse } from "../../migrations/postgres-target.ts";

/**
 * The URL of a fresh database of its own (`<prefix>_<random>`), so test files never see each
 * other's rows; migrated with migrations/warehouse unless `migrations` says otherwise (`[]`: empty).
 */
export async function freshWarehouse(
  prefix: string,
  options: { migrations?: readonly Migration[] } = {},
): Promise<string> {
  const database = `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
  const url = await ensureDatabase(inject("warehouseUrl"), database);
  const migrations = options.migrations ?? readWarehouseMigrations();
  if (migrations.length > 0) await migrateWarehouse(url, migrations);
  return url;
}
