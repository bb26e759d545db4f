/**
 * Warehouse loads racing other writers, against the real embedded PostgreSQL and the archive's
 * in-memory store: a file listed and then gone when read (an erasure's or the raw-UA pass's rewrite,
 * a compaction) is read again from a fresh listing, never skipped (skipping loaded a partial hour
 * and deleted the other rows of it); loads of one hour running at once (WarehouseDO's reload and a
 * direct load) serialise, and the hour holds each event once.
 */
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadHour } from "../../consumers/warehouse-load.ts";
import { batchFileKey, partitionOf, toArchiveRecord } from "../../core/archive/layout.ts";
import { encodeArchiveFile } from "../../core/archive/parquet.ts";
import { type ArchiveStore, MemoryArchiveStore } from "../../core/archive/store.ts";
import type { Event } from "../../core/event.ts";
import { HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

const HOUR = Date.UTC(2026, 10, 20, 10);
const P = "UA-RACE-1";
const Q = "UA-RACE-2";
let db: Warehouse;

afterAll(async () => {
  await db?.destroy();
});

beforeAll(async () => {
  db = openWarehouse(await freshWarehouse("load_races"), { max: 8 });
}, 120_000);

const events = (property: string, n: number, prefix: string): Event[] =>
  Array.from({ length: n }, (_, i) =>
    makeEvent({
      property_id: property,
      event_id: `${prefix}-${i}`,
      client_id: `${prefix}-visitor-${i % 4}`,
      event_timestamp: HOUR + i * MINUTE_MS,
    }),
  );

async function archive(
  store: ArchiveStore,
  property: string,
  file: string,
  batch: Event[],
  hour = HOUR,
): Promise<string> {
  const key = batchFileKey(partitionOf(property, hour), file);
  const body = encodeArchiveFile(
    batch.map((e) => toArchiveRecord(e, hour + HOUR_MS)),
    zstdCodec,
  );
  await store.put(key, body);
  return key;
}

async function counts(property: string): Promise<{ events: number; distinct: number; sessions: number }> {
  const e = await db
    .selectFrom("events")
    .select([sql<number>`COUNT(*)`.as("n"), sql<number>`COUNT(DISTINCT event_id)`.as("d")])
    .where("property_id", "=", property)
    .executeTakeFirstOrThrow();
  const s = await db
    .selectFrom("sessions")
    .select(sql<number>`COUNT(*)`.as("n"))
    .where("property_id", "=", property)
    .executeTakeFirstOrThrow();
  return { events: Number(e.n), distinct: Number(e.d), sessions: Number(s.n) };
}

/**
 * A store where the first read of `key` finds it replaced, as a rewrite leaves it: its rows moved to
 * a new file of the same hour, the old one deleted after the listing named it.
 */
function replacedOnFirstRead(inner: MemoryArchiveStore, key: string, replacement: string): ArchiveStore {
  let replaced = false;
  return {
    put: (k, body, onlyIf) => inner.put(k, body, onlyIf),
    list: (prefix, cursor) => inner.list(prefix, cursor),
    delete: (keys) => inner.delete(keys),
    async get(k) {
      if (k === key && !replaced) {
        replaced = true;
        const old = await inner.get(key);
        if (old) await inner.put(replacement, old.body);
        await inner.delete([key]);
      }
      return inner.get(k);
    },
  };
}

it("a file gone between the listing and its read is found again in its new place, and the hour loads whole", async () => {
  const store = new MemoryArchiveStore();
  const first = events(P, 6, "a");
  const second = events(P, 6, "b").map((e) => ({ ...e, event_timestamp: e.event_timestamp + (30 * MINUTE_MS) / 6 }));
  await archive(store, P, "b1", first);
  const moved = await archive(store, P, "b2", second);
  const racing = replacedOnFirstRead(store, moved, batchFileKey(partitionOf(P, HOUR), "b2ee"));
  const loaded = await loadHour(db, racing, HOUR, { properties: [P], exact: true });
  expect(loaded.archived).toBe(12);
  expect(await counts(P)).toMatchObject({ events: 12, distinct: 12 });
});

it("a file that keeps vanishing fails the load (it is retried) instead of loading part of the hour", async () => {
  const store = new MemoryArchiveStore();
  await archive(store, Q, "b1", events(Q, 3, "q"));
  const vanishing: ArchiveStore = {
    put: (key, body, onlyIf) => store.put(key, body, onlyIf),
    delete: (keys) => store.delete(keys),
    list: (p, c) => store.list(p, c),
    get: async () => null,
  };
  await expect(loadHour(db, vanishing, HOUR, { properties: [Q], exact: true })).rejects.toThrow(/vanish/);
  expect(await counts(Q)).toEqual({ events: 0, distinct: 0, sessions: 0 });
});

it("loads of the same and adjacent hours at once, of one property and of every property, leave each event and session once", async () => {
  const store = new MemoryArchiveStore();
  const p = "UA-RACE-3";
  const r = "UA-RACE-4";
  // Two hours, sessions crossing from one into the next: each load rewrites its neighbour's sessions.
  const spread = (batch: Event[]) => batch.map((e, i) => ({ ...e, event_timestamp: HOUR + i * 6 * MINUTE_MS }));
  for (const [property, batch] of [
    [p, spread(events(p, 20, "p"))],
    [r, spread(events(r, 12, "r"))],
  ] as const)
    for (const hour of [HOUR, HOUR + HOUR_MS]) {
      const inHour = batch.filter((e) => e.event_timestamp >= hour && e.event_timestamp < hour + HOUR_MS);
      await archive(store, property, hour === HOUR ? "c1" : "c2", inHour, hour);
    }
  const every = { properties: [p, r], exact: false };
  for (const hour of [HOUR, HOUR + HOUR_MS]) await loadHour(db, store, hour, every);
  const sequential = { p: await counts(p), r: await counts(r) };
  expect(sequential.p).toMatchObject({ events: 20, distinct: 20 });
  expect(sequential.r).toMatchObject({ events: 12, distinct: 12 });
  for (let round = 0; round < 3; round++) {
    await Promise.all([
      loadHour(db, store, HOUR, every),
      loadHour(db, store, HOUR, { properties: [p], exact: true }),
      loadHour(db, store, HOUR + HOUR_MS, every),
      loadHour(db, store, HOUR + HOUR_MS, { properties: [p], exact: true }),
      loadHour(db, store, HOUR, { properties: [r], exact: true }),
    ]);
    expect({ p: await counts(p), r: await counts(r) }).toEqual(sequential);
  }
});
