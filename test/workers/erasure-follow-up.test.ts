/**
 * A visitor's erasure runs a second pass FOLLOW_UP_DELAY_MS after the first, in workerd against
 * the real ClickHouse and archive: an event accepted before the request that reached the stores
 * only after the first pass (here: consumed after it, from a client id known only by the user id
 * the first pass found) is erased by the second, from ClickHouse, the archive and the session
 * actors; until the follow-up is due the job reads `done` with `follow_up.state` pending, keeps the
 * ids it needs, and holds back no other erasure.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, expect, it } from "vitest";
import { readManifest } from "../../core/archive/compaction-step.ts";
import { hourPrefix, liveFiles, partitionOf } from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { listAll } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { type ErasureStatus, FOLLOW_UP_DELAY_MS } from "../../core/privacy/erasure.ts";
import { MINUTE_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { ADMIN, type CreatedProperty, call, consumeMessage, createProperty, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const T = YESTERDAY_10H;
const USER = `${run}-user`;
const LAPTOP = `${run}-laptop`;
let p: CreatedProperty;

const ev = (id: string, client: string, t: number, extra: Partial<Event> = {}) =>
  makeEvent({ property_id: p.property_id, event_id: `${run}-${id}`, client_id: client, event_timestamp: t, ...extra });

async function clickHouseEvents(clients: string[]): Promise<number> {
  const result = await clickHouseClient(loadConfig(env)).query({
    query: "SELECT count() AS n FROM events WHERE property_id = {p:String} AND client_id IN {ids:Array(String)}",
    query_params: { p: p.property_id, ids: clients },
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return Number((await result.json<{ n: number }>())[0]?.n);
}

async function archivedIds(hour: number): Promise<string[]> {
  const store = await archiveStore(env);
  const ids: string[] = [];
  for (const id of [p.property_id, POOLED_ARCHIVE_ID]) {
    const partition = partitionOf(id, hour);
    const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
    for (const key of liveFiles(listed, (await readManifest(store, partition)).manifest)) {
      const object = await store.get(key);
      if (object)
        for (const r of await decodeArchiveFile(object.body, zstdCodec))
          if (r.property_id === p.property_id) ids.push(r.event_id);
    }
  }
  return ids.sort();
}

/** Runs the actor's alarms until the job reads `state` (each call waits for a running alarm). */
async function drain(erasureId: string, until: (s: ErasureStatus | undefined) => boolean) {
  const stub = env.ERASURE_DO.getByName(p.property_id);
  let status: ErasureStatus | undefined;
  for (let i = 0; i < 20 && !until(status); i++)
    status = await runInDurableObject(stub, async (instance) => {
      await instance.alarm();
      return instance.status(erasureId);
    });
  return status;
}

async function erase(visitor: string): Promise<string> {
  const res = await call(`/api/v1/properties/${p.property_id}/visitors/${encodeURIComponent(visitor)}`, {
    method: "DELETE",
    headers: ADMIN,
  });
  expect(res.status).toBe(202);
  return (await res.json<{ erasure_id: string }>()).erasure_id;
}

beforeAll(async () => {
  p = await createProperty({ property_id: `EF-${run}` });
  await consumeMessage(`${run}-1`, [
    ev("u1", LAPTOP, T, { user_id: USER }),
    ev("a1", `${run}-alice`, T + MINUTE_MS),
    ev("b1", `${run}-bob`, T + 2 * MINUTE_MS),
  ]);
  // The consumer marked the closed hour for WarehouseDO to reload; this file has no warehouse rows to keep.
  await runInDurableObject(env.WAREHOUSE_DO.getByName("global"), async (_actor, state) => {
    await state.storage.deleteAlarm();
    await state.storage.deleteAll();
  });
});

it("erases a late event of the visitor's client id in the follow-up pass, and reads done in between", {
  // ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures.
  timeout: 180_000,
}, async () => {
  const id = await erase(USER);
  const first = await drain(id, (s) => s?.state === "done");
  expect(first).toMatchObject({ state: "done", client_ids_found: 1, follow_up: { state: "pending" } });
  const due = Date.parse(first?.follow_up?.due_at ?? "");
  expect(due - Date.parse(first?.finished_at ?? "")).toBe(FOLLOW_UP_DELAY_MS);
  expect(await clickHouseEvents([LAPTOP])).toBe(0);

  // Sent before the request, delivered after the first pass: no user id on it, only the laptop's client id.
  await consumeMessage(`${run}-late`, [ev("u2", LAPTOP, T + 5 * MINUTE_MS)]);
  expect(await clickHouseEvents([LAPTOP])).toBe(1);

  // Not due yet: an alarm now changes nothing, and another visitor's erasure runs at once meanwhile.
  const other = await erase(`${run}-bob`);
  expect(await drain(other, (s) => s?.state === "done")).toMatchObject({ state: "done" });
  expect(await env.ERASURE_DO.getByName(p.property_id).status(id)).toMatchObject({ follow_up: { state: "pending" } });
  expect(await clickHouseEvents([LAPTOP])).toBe(1);
  const stub = env.ERASURE_DO.getByName(p.property_id);
  expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBe(
    Math.min(due, Date.parse((await stub.status(other))?.follow_up?.due_at ?? "")),
  );

  // Due: the clock is not moved, the due time is.
  await runInDurableObject(stub, (_i, state) => state.storage.put(`follow:${id}`, Date.now() - 1));
  const second = await drain(id, (s) => s?.follow_up?.state === "done" || s?.follow_up?.state === "failed");
  expect(second).toMatchObject({ state: "done", follow_up: { state: "done", hours_found: 1 } });
  expect(second?.stores.archive.rows_removed).toBe(2);
  expect(await clickHouseEvents([LAPTOP])).toBe(0);
  expect(await archivedIds(T)).toEqual([`${run}-a1`]);
  // Finished: the visitor's ids are no longer kept.
  const kept = await runInDurableObject(stub, async (_i, state) =>
    state.storage.get<{ visitor?: string }>(`job:${id}`),
  );
  expect(kept?.visitor).toBeUndefined();
  expect(JSON.stringify(kept)).not.toContain(LAPTOP);
});
