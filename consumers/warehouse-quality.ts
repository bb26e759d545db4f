/**
 * Data quality and hot retention (issue #16), the shell around core/warehouse/quality.ts and
 * retention.ts. `checkQuality` counts one hour's events per property in the archive (read and
 * deduplicated exactly as the load reads them: consumers/warehouse-load.ts readArchiveHour), in
 * ClickHouse and in the warehouse, and replaces the hour's `data_quality` rows. `applyHotRetention`
 * drops ClickHouse's `events` day partitions past HOT_RETENTION_DAYS that those rows vouch for.
 */

import { eventPartitionsStatement } from "../core/clickhouse/cluster.ts";
import {
  type Counts,
  clickHouseHourCounts,
  compareHour,
  countByProperty,
  replaceQualityRows,
  warehouseHourCounts,
  withinHotRetention,
} from "../core/warehouse/quality.ts";
import {
  clickHouseDayHours,
  dayQuality,
  dropPartitionSql,
  EVENT_PARTITIONS_SQL,
  expiredDays,
  retentionVerdict,
} from "../core/warehouse/retention.ts";
import { archiveStore } from "../platform/archive/store.ts";
import { clickHouseClient, clickHouseCommand } from "../platform/clickhouse.ts";
import { loadConfig } from "../platform/config.ts";
import { log } from "../platform/log.ts";
import { registryStub } from "../platform/properties.ts";
import type { Warehouse } from "../platform/warehouse.ts";
import { readArchiveHour } from "./warehouse-archive.ts";

/** Rows of a ClickHouse SELECT, 64-bit integers as JSON numbers. */
async function clickHouseRows<T>(env: Env, statement: { sql: string; params?: Record<string, unknown> }): Promise<T[]> {
  const result = await clickHouseClient(loadConfig(env)).query({
    query: statement.sql,
    query_params: statement.params,
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return result.json<T>();
}

const toCounts = (rows: readonly { property_id: string; events: number | string }[]): Counts =>
  new Map(rows.map((r) => [r.property_id, Number(r.events)]));

export async function checkQuality(
  env: Env,
  db: Warehouse,
  hour: number,
): Promise<{ ok: boolean; mismatches: number }> {
  const config = loadConfig(env);
  const now = Date.now();
  const warehouse = toCounts(await warehouseHourCounts(db, hour).execute());
  const clickhouse = withinHotRetention(hour, now, config.HOT_RETENTION_DAYS)
    ? toCounts(await clickHouseRows<{ property_id: string; events: number }>(env, clickHouseHourCounts(hour)))
    : null;
  // Every registered property's files, and those of any property the other stores hold events of
  // (a property deleted from the registry still has its archive).
  const registered = (await registryStub(env).list()).map((p) => p.property_id);
  const properties = [...new Set([...registered, ...warehouse.keys(), ...(clickhouse?.keys() ?? [])])];
  const { archived } = await readArchiveHour(await archiveStore(env), hour, { properties, exact: false });
  const archive = countByProperty(archived.map((a) => a.event));
  const rows = compareHour(hour, archive, clickhouse, warehouse, now);
  await db.transaction().execute(async (trx) => {
    const { clear, insert } = replaceQualityRows(trx, hour, rows);
    await clear.execute();
    if (insert) await insert.execute();
  });
  const bad = rows.filter((r) => !r.ok);
  for (const r of bad)
    log.warn("data quality mismatch", {
      hour: new Date(hour).toISOString(),
      property_id: r.property_id,
      archive_events: r.archive_events,
      clickhouse_events: r.clickhouse_events ?? null,
      warehouse_events: r.warehouse_events,
    });
  return { ok: bad.length === 0, mismatches: bad.length };
}

export async function applyHotRetention(env: Env, db: Warehouse, now: number, frontier: number): Promise<number> {
  const config = loadConfig(env);
  const partitions = await clickHouseRows<{ partition: string }>(
    env,
    eventPartitionsStatement(config.CLICKHOUSE_CLUSTER, config.CLICKHOUSE_DATABASE, EVENT_PARTITIONS_SQL),
  );
  let dropped = 0;
  for (const day of expiredDays(
    partitions.map((p) => p.partition),
    now,
    config.HOT_RETENTION_DAYS,
    frontier,
  )) {
    const held = await clickHouseRows<{ property_id: string; hour: number }>(env, clickHouseDayHours(day));
    const verdict = retentionVerdict(
      held.map((h) => ({ property_id: h.property_id, hour: Number(h.hour) })),
      await dayQuality(db, day).execute(),
    );
    const label = new Date(day).toISOString().slice(0, 10);
    if (!verdict.drop) {
      log.warn("hot retention: day kept in ClickHouse", {
        day: label,
        reasons: verdict.reasons.slice(0, 5),
        more_reasons: Math.max(0, verdict.reasons.length - 5),
      });
      continue;
    }
    await clickHouseCommand(config, { sql: dropPartitionSql(day) });
    log.info("hot retention: day dropped from ClickHouse events (every hour checked in the warehouse)", { day: label });
    dropped++;
  }
  return dropped;
}
