/**
 * The store work of a GDPR erasure (durable-objects/erasure-do.ts runs it in steps): finding a
 * visitor's client ids and hours in ClickHouse and the warehouse, and erasing them there. Given to
 * the actor by the Worker's entry (workers/main.ts), since actors do not import consumers/ and the
 * warehouse's aggregates are the scheduled job's code. Every function is idempotent: a step
 * retried after a crash finds less and deletes nothing twice.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import {
  daysOfHours,
  type ErasureFound,
  type ErasureTarget,
  hoursOf,
  type StoreErased,
} from "../core/privacy/erasure.ts";
import * as ch from "../core/privacy/erasure-clickhouse.ts";
import * as wh from "../core/privacy/erasure-warehouse.ts";
import { alignedCover, DAYS_TABLES, respanStatements } from "../core/query/rollup-spans.ts";
import { DAY_MS } from "../core/time.ts";
import { isoDay } from "../core/warehouse/aggregates.ts";
import { clickHouseClient, clickHouseCommand } from "../platform/clickhouse.ts";
import { loadConfig } from "../platform/config.ts";
import { withWarehouse } from "../platform/warehouse.ts";
import { runAggregates } from "./warehouse-aggregates.ts";

async function rows<T>(client: ClickHouseClient, s: ch.Statement): Promise<T[]> {
  const result = await client.query({
    query: s.sql,
    query_params: s.params,
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return result.json<T>();
}

/** A delete or rebuild statement, through the one helper that fits it to CLICKHOUSE_CLUSTER. */
async function run(env: Env, s: ch.Statement, settings: Record<string, string>): Promise<void> {
  await clickHouseCommand(loadConfig(env), { sql: s.sql, params: s.params, settings });
}

/**
 * The client ids found for a visitor, and the hours of the target (every hour of the property for
 * scope property). `target.client_ids` are those an earlier pass found: its rows are gone, so only
 * they still lead to the late events of a client id that never sent the user id.
 */
export async function findErasure(env: Env, target: ErasureTarget): Promise<ErasureFound> {
  const client = clickHouseClient(loadConfig(env));
  const url = loadConfig(env).WAREHOUSE_URL;
  const { property_id: p, visitor: v } = target;
  const ids = new Set<string>(target.client_ids);
  if (v !== undefined) {
    for (const r of await rows<{ client_id: string }>(client, ch.findClientIds(p, v))) ids.add(r.client_id);
    if (url)
      await withWarehouse(url, async (db) => {
        for (const r of await wh.findClientIds(db, p, v).execute()) ids.add(r.client_id);
      });
  }
  const clientIds = [...ids].sort();
  const hot = await rows<{ hour: number }>(client, ch.findHours(p, v, clientIds));
  const cold = url
    ? await withWarehouse(url, (db) => wh.findHours(db, p, v, clientIds).execute())
    : ([] as { hour: Date }[]);
  return {
    client_ids: clientIds,
    clickhouse_hours: hoursOf(hot.map((r) => Number(r.hour))),
    warehouse_hours: hoursOf(cold.map((r) => new Date(r.hour).getTime())),
  };
}

/**
 * Deletes the target's rows from ClickHouse. A visitor's raw rows go, then each touched day's
 * rollups are derived again without them and the day blocks around rebuilt; a property's rows go
 * from every table.
 */
export async function eraseClickHouse(env: Env, target: ErasureTarget, hours: readonly number[]): Promise<StoreErased> {
  const client = clickHouseClient(loadConfig(env));
  const p = target.property_id;
  if (target.scope === "property") {
    const [count] = await rows<{ n: number }>(client, ch.countPropertyRows(p));
    for (const s of ch.deletePropertyRows(p)) await run(env, s, ch.DELETE_SETTINGS);
    return { rows_removed: Number(count?.n ?? 0), days_rebuilt: 0 };
  }
  const visitor = target.visitor ?? "";
  const [count] = await rows<{ n: number }>(client, ch.countVisitorRows(p, visitor, target.client_ids));
  for (const s of ch.deleteVisitorRows(p, visitor, target.client_ids)) await run(env, s, ch.DELETE_SETTINGS);
  const days = daysOfHours(hours);
  for (const day of days) for (const s of ch.rebuildDayStatements(p, day)) await run(env, s, ch.REBUILD_SETTINGS);
  const covers = new Map(days.map((d) => alignedCover(d, d + DAY_MS)).map((c) => [c.join(), c]));
  for (const [from, to] of covers.values())
    for (const table of DAYS_TABLES)
      for (const query of respanStatements(table))
        await run(env, { sql: query, params: { p, from, to } }, ch.REBUILD_SETTINGS);
  return { rows_removed: Number(count?.n ?? 0), days_rebuilt: days.length };
}

/**
 * Deletes the target's rows from the warehouse: a visitor's events and sessions in one
 * transaction, then the aggregates of the days they were in rebuilt; a property's rows from every
 * table. Skipped when there is no warehouse.
 */
export async function eraseWarehouse(env: Env, target: ErasureTarget, hours: readonly number[]): Promise<StoreErased> {
  const url = loadConfig(env).WAREHOUSE_URL;
  if (!url) return { rows_removed: 0, days_rebuilt: 0, skipped: "no warehouse configured (WAREHOUSE_URL is empty)" };
  return withWarehouse(url, async (db) => {
    const removed = await db.transaction().execute(async (trx) => {
      const deletes =
        target.scope === "property"
          ? wh.deleteProperty(trx, target.property_id)
          : wh.deleteVisitor(trx, target.property_id, target.visitor ?? "", target.client_ids);
      let n = 0;
      for (const statement of deletes) n += Number((await statement.executeTakeFirst()).numDeletedRows);
      return n;
    });
    if (target.scope === "property") return { rows_removed: removed, days_rebuilt: 0 };
    const days = daysOfHours(hours).map(isoDay);
    for (const day of days) await runAggregates(env, db, day);
    return { rows_removed: removed, days_rebuilt: days.length };
  });
}

/** The work ErasureDO runs (workers/main.ts hands it over). */
export const erasureWork = { find: findErasure, eraseClickHouse, eraseWarehouse };
