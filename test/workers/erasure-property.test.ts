/**
 * Erasing a whole property (what `DELETE /api/v1/properties/{id}` starts through
 * `ERASURE_DO.start({scope: "property"})`), in workerd against the real ClickHouse and PostgreSQL:
 * every ClickHouse table and warehouse table loses the property's rows, its own archive objects go
 * and its rows leave the pooled files, which keep a neighbour's rows; its session actors and live
 * windows are emptied. A repeated start with the same erasure id is the same job.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { warehouseWork } from "../../consumers/warehouse-jobs.ts";
import { encodeGroup } from "../../core/archive/batch.ts";
import { readManifest } from "../../core/archive/compaction-step.ts";
import { hourPrefix, liveFiles, partitionOf, pendingKey, toArchiveRecord } from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { listAll } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import type { ErasureStatus } from "../../core/privacy/erasure.ts";
import { ERASED_TABLES } from "../../core/privacy/erasure-clickhouse.ts";
import { PROPERTY_TABLES } from "../../core/privacy/erasure-warehouse.ts";
import { sessionShards } from "../../core/property/property.ts";
import { HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { sessionActorKey } from "../../durable-objects/client.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import { type CreatedProperty, consumeMessage, createProperty, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const T = YESTERDAY_10H;
/** An hour only the property's own archive files hold (ClickHouse and the warehouse never saw it). */
const OWN_ONLY = T - 5 * HOUR_MS;

let gone: CreatedProperty;
let neighbour: CreatedProperty;

function traffic(property: string): Event[] {
  const ev = (id: string, client: string, t: number) =>
    makeEvent({ property_id: property, event_id: `${run}-${id}`, client_id: `${run}-${client}`, event_timestamp: t });
  return [ev("a1", "alice", T), ev("a2", "alice", T + 5 * MINUTE_MS), ev("b1", "bob", T + HOUR_MS)];
}

async function clickHouseCounts(property: string): Promise<Record<string, number>> {
  const client = clickHouseClient(loadConfig(env));
  const counts: Record<string, number> = {};
  for (const [table] of ERASED_TABLES) {
    const result = await client.query({
      query: `SELECT count() AS n FROM ${table} WHERE property_id = {p:String}`,
      query_params: { p: property },
      format: "JSONEachRow",
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
    counts[table] = Number((await result.json<{ n: number }>())[0]?.n);
  }
  return counts;
}

async function warehouseCounts(property: string): Promise<Record<string, number>> {
  return withWarehouse(env.WAREHOUSE_URL, async (db) => {
    const counts: Record<string, number> = {};
    for (const table of PROPERTY_TABLES) {
      const { rows } = await sql<{
        n: number;
      }>`SELECT COUNT(*) AS n FROM ${sql.table(table)} WHERE property_id = ${property}`.execute(db);
      counts[table] = Number(rows[0]?.n);
    }
    return counts;
  });
}

async function pooledRecords(hour: number) {
  const store = await archiveStore(env);
  const partition = partitionOf(POOLED_ARCHIVE_ID, hour);
  const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
  const records = [];
  for (const key of liveFiles(listed, (await readManifest(store, partition)).manifest)) {
    const object = await store.get(key);
    if (object) records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
  }
  return records;
}

/** The property's session actor count, as the consumer and the erasure compute it. */
async function buckets(p: CreatedProperty): Promise<number> {
  return sessionShards(await env.PROPERTY_DO.getByName(p.property_id).config(), loadConfig(env).SESSION_BUCKETS);
}

beforeAll(async () => {
  gone = await createProperty({ property_id: `EP-G-${run}` });
  neighbour = await createProperty({ property_id: `EP-N-${run}` });
  await consumeMessage(`${run}-m`, [...traffic(gone.property_id), ...traffic(neighbour.property_id)]);
  // Now: counted in the live windows too.
  const live = Date.now() - MINUTE_MS;
  await consumeMessage(`${run}-l`, [
    makeEvent({
      property_id: gone.property_id,
      event_id: `${run}-l1`,
      client_id: `${run}-carol`,
      event_timestamp: live,
    }),
  ]);
  await runInDurableObject(env.WAREHOUSE_DO.getByName("global"), async (_actor, state) => {
    await state.storage.deleteAlarm();
    await state.storage.deleteAll();
  });
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    for (const p of [gone, neighbour])
      for (const hour of [T, T + HOUR_MS])
        expect((await warehouseWork.loadHour(env, db, hour, { property: p.property_id, force: true })).status).toBe(
          "done",
        );
    await warehouseWork.aggregateDay(env, db, new Date(T).toISOString().slice(0, 10));
  });
  // A busy hour's own file (the consumer pools small hours) and its pending marker.
  const store = await archiveStore(env);
  const own = partitionOf(gone.property_id, OWN_ONLY);
  const records = [makeEvent({ property_id: gone.property_id, event_id: `${run}-o1`, event_timestamp: OWN_ONLY })];
  const file = await encodeGroup(
    { partition: own, messageIds: [`${run}-own`], records: records.map((r) => toArchiveRecord(r, OWN_ONLY)) },
    zstdCodec,
  );
  await store.put(file.key, file.bytes);
  await store.put(pendingKey(own), new Uint8Array(0));
});

describe("erasing a whole property", () => {
  it("removes its rows from every store, keeps its neighbour's, and records the audit", {
    // ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures.
    timeout: 180_000,
  }, async () => {
    expect((await clickHouseCounts(gone.property_id)).events).toBe(4);
    expect((await warehouseCounts(gone.property_id)).events).toBe(3);
    const actor = env.SESSION_DO.getByName(sessionActorKey(gone.property_id, `${run}-carol`, await buckets(gone)));
    expect((await actor.stats()).visitors).toBeGreaterThan(0);
    expect(await env.PROPERTY_DO.getByName(gone.property_id).storedWindows(Date.now())).not.toEqual([]);
    const request = {
      erasure_id: `del-${run}`,
      property_id: gone.property_id,
      scope: "property" as const,
      requested_by: "admin",
      requested_at: new Date(T).toISOString(),
    };
    const stub = env.ERASURE_DO.getByName(gone.property_id);
    const first = await stub.start(request);
    const again = await stub.start(request);
    expect(again).toEqual(first);

    let status: ErasureStatus | undefined;
    for (let i = 0; i < 20 && status?.state !== "done" && status?.state !== "failed"; i++)
      status = await runInDurableObject(stub, async (instance) => {
        await instance.alarm();
        return instance.status(request.erasure_id);
      });
    expect(status).toMatchObject({ state: "done", scope: "property", requested_at: new Date(T).toISOString() });
    expect(status?.visitor_sha256).toBeUndefined();
    expect(status?.stores.archive).toMatchObject({ state: "done", objects_deleted: 2, rows_removed: 4 });
    expect(status?.stores.clickhouse.rows_removed).toBeGreaterThanOrEqual(3);
    expect(status?.stores.live_windows.state).toBe("done");
    expect(await stub.audit()).toHaveLength(1);

    expect(Object.values(await clickHouseCounts(gone.property_id))).toEqual(ERASED_TABLES.map(() => 0));
    expect(Object.values(await warehouseCounts(gone.property_id))).toEqual(PROPERTY_TABLES.map(() => 0));
    expect((await clickHouseCounts(neighbour.property_id)).events).toBe(3);
    expect((await warehouseCounts(neighbour.property_id)).events).toBe(3);
    const store = await archiveStore(env);
    expect(await listAll(store, `events/property_id=${gone.property_id}/`)).toEqual([]);
    expect(await listAll(store, `_pending/property_id=${gone.property_id}/`)).toEqual([]);
    const pooled = [...(await pooledRecords(T)), ...(await pooledRecords(T + HOUR_MS))];
    expect(pooled.filter((r) => r.property_id === gone.property_id)).toEqual([]);
    expect(pooled.filter((r) => r.property_id === neighbour.property_id)).toHaveLength(3);
    expect(await actor.stats()).toMatchObject({ visitors: 0 });
    expect(await env.PROPERTY_DO.getByName(gone.property_id).storedWindows(Date.now())).toEqual([]);
  });
});
