/**
 * Data quality and hot retention in workerd, against the real archive (Miniflare's R2), the
 * embedded ClickHouse and the embedded PostgreSQL warehouse: a missing warehouse event is a
 * mismatch until it is loaded, and hot retention drops a ClickHouse day only when every hour of it
 * checked ok (a day with a mismatching hour, or an unchecked one, stays).
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyHotRetention, checkQuality } from "../../consumers/warehouse-quality.ts";
import { batchFileKey, partitionOf, toArchiveRecord } from "../../core/archive/layout.ts";
import { encodeArchiveFile } from "../../core/archive/parquet.ts";
import type { Event } from "../../core/event.ts";
import { replayChunk } from "../../core/replay/replay.ts";
import { DAY_MS, HOUR_MS } from "../../core/time.ts";
import { toWarehouseEventRow } from "../../core/warehouse/rows.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { createClickHouseSink } from "../../platform/clickhouse-sink.ts";
import { loadConfig } from "../../platform/config.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { ADMIN, call, envelope } from "./helpers.ts";

const P = `dq-${crypto.randomUUID().slice(0, 8)}`;
let db: Warehouse;

beforeAll(() => {
  db = openWarehouse(env.WAREHOUSE_URL);
});
afterAll(async () => {
  await db.destroy();
});

/** `n` pageviews of P at minutes 1…n of the hour. */
function eventsAt(hour: number, n: number, tag: string): Event[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent({
      property_id: P,
      client_id: `${tag}-c${i}`,
      event_id: `${tag}-${i}`,
      event_timestamp: hour + (i + 1) * 60_000,
    }),
  );
}

/** One batch file of the events (ids are hex, as the layout names batch files). */
async function archive(events: readonly Event[], file: string) {
  const store = await archiveStore(env);
  const records = events.map((e) => toArchiveRecord(e, e.event_timestamp));
  await store.put(
    batchFileKey(partitionOf(P, events[0]?.event_timestamp ?? 0), file),
    encodeArchiveFile(records, zstdCodec),
  );
}

async function toClickHouse(events: readonly Event[], token: string) {
  await createClickHouseSink(loadConfig(env)).insert(replayChunk(events, new Map()).events, token);
}

async function toWarehouse(events: readonly Event[]) {
  await db.insertInto("events").values(replayChunk(events, new Map()).events.map(toWarehouseEventRow)).execute();
}

async function qualityRow(hour: number) {
  return db
    .selectFrom("data_quality")
    .select(["archive_events", "clickhouse_events", "warehouse_events", "ok"])
    .where("property_id", "=", P)
    .where("hour", "=", new Date(hour))
    .execute();
}

async function clickHouseEvents(day: number): Promise<number> {
  const result = await clickHouseClient(loadConfig(env)).query({
    query:
      "SELECT count() AS n FROM events WHERE property_id = {p:String} AND event_timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND event_timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')",
    query_params: { p: P, from: day, to: day + DAY_MS },
    format: "JSONEachRow",
  });
  return Number((await result.json<{ n: string }>())[0]?.n ?? 0);
}

describe("checkQuality", () => {
  // Within hot retention (90 days), at an hour no other test writes: noon UTC, since
  // consumer.test.ts imports events at midnight UTC of each of 150 days, this one's among them
  // (run between 00:00 and 01:00 UTC, the hour 80 days back was such a midnight).
  const hour = Math.floor((Date.now() - 80 * DAY_MS) / DAY_MS) * DAY_MS + 12 * HOUR_MS;

  it("records a mismatch while the warehouse lacks an event, and ok once it has it", async () => {
    const events = eventsAt(hour, 3, "hot");
    await archive(events, "a");
    // A redelivered copy of one event in a second file: the archive still holds 3 events.
    await archive(events.slice(0, 1), "b");
    await toClickHouse(events, `${P}-hot`);
    await toWarehouse(events.slice(0, 2));

    const first = await checkQuality(env, db, hour);
    expect(first).toEqual({ ok: false, mismatches: 1 });
    expect(await qualityRow(hour)).toEqual([
      { archive_events: 3, clickhouse_events: 3, warehouse_events: 2, ok: false },
    ]);

    await toWarehouse(events.slice(2));
    expect(await checkQuality(env, db, hour)).toEqual({ ok: true, mismatches: 0 });
    // Replaced, not added to.
    expect(await qualityRow(hour)).toEqual([
      { archive_events: 3, clickhouse_events: 3, warehouse_events: 3, ok: true },
    ]);
  });

  it("does not count ClickHouse past hot retention", async () => {
    const old = Date.UTC(2001, 0, 10, 8);
    const events = eventsAt(old, 2, "cold");
    await archive(events, "a");
    await toWarehouse(events);
    expect(await checkQuality(env, db, old)).toEqual({ ok: true, mismatches: 0 });
    expect(await qualityRow(old)).toEqual([
      { archive_events: 2, clickhouse_events: null, warehouse_events: 2, ok: true },
    ]);
  });
});

describe("applyHotRetention", () => {
  it("drops a day whose every hour checked ok, and keeps one with a mismatching or unchecked hour", async () => {
    // Past hot retention (90 days) but inside the 730-day TTL, which would drop older rows itself.
    const okDay = Math.floor(Date.now() / DAY_MS - 500) * DAY_MS;
    const badDay = okDay + DAY_MS;
    const uncheckedDay = okDay + 2 * DAY_MS;
    const ok = [...eventsAt(okDay + 10 * HOUR_MS, 2, "ok10"), ...eventsAt(okDay + 11 * HOUR_MS, 1, "ok11")];
    const good = eventsAt(badDay + 11 * HOUR_MS, 2, "bad11");
    const short = eventsAt(badDay + 12 * HOUR_MS, 2, "bad12");
    const unchecked = eventsAt(uncheckedDay + 9 * HOUR_MS, 1, "unchecked");
    for (const [events, file] of [
      [ok.slice(0, 2), "a10"],
      [ok.slice(2), "a11"],
      [good, "b11"],
      [short, "b12"],
    ] as const)
      await archive(events, file);
    await toClickHouse([...ok, ...good, ...short, ...unchecked], `${P}-cold`);
    await toWarehouse([...ok, ...good, ...short.slice(0, 1)]);
    for (const h of [okDay + 10 * HOUR_MS, okDay + 11 * HOUR_MS, badDay + 11 * HOUR_MS, badDay + 12 * HOUR_MS])
      await checkQuality(env, db, h);
    expect((await qualityRow(badDay + 12 * HOUR_MS))[0]?.ok).toBe(false);

    // A frontier at the ok day's start: the warehouse answers nothing of it yet, so ClickHouse keeps it.
    expect(await applyHotRetention(env, db, Date.now(), okDay)).toBe(0);
    expect(await clickHouseEvents(okDay)).toBe(3);
    expect(await applyHotRetention(env, db, Date.now(), Date.now())).toBeGreaterThanOrEqual(1);
    expect(await clickHouseEvents(okDay)).toBe(0);
    expect(await clickHouseEvents(badDay)).toBe(4);
    expect(await clickHouseEvents(uncheckedDay)).toBe(1);

    // Within the retention nothing goes, whatever the checks say.
    expect(await applyHotRetention(env, db, uncheckedDay + 10 * DAY_MS, Date.now())).toBe(0);
  });
});

describe("GET /api/v1/data-quality", () => {
  it("lists the property's mismatching hours and how many were checked", async () => {
    const day = Date.UTC(2003, 2, 4);
    const row = (h: number, ok: boolean, warehouse: number) => ({
      property_id: P,
      hour: new Date(day + h * HOUR_MS),
      archive_events: 5,
      clickhouse_events: null,
      warehouse_events: warehouse,
      ok,
      checked_at: new Date(day + 2 * DAY_MS),
    });
    await db
      .insertInto("data_quality")
      .values([row(1, true, 5), row(2, false, 4), row(3, true, 5)])
      .execute();
    const res = await call(`/api/v1/data-quality?property_id=${P}&from=2003-03-04&to=2003-03-04`, { headers: ADMIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      property_id: P,
      from: "2003-03-04T00:00:00.000Z",
      to: "2003-03-05T00:00:00.000Z",
      checked_hours: 3,
      mismatches: [
        {
          hour: "2003-03-04T02:00:00.000Z",
          archive_events: 5,
          clickhouse_events: null,
          warehouse_events: 4,
          checked_at: "2003-03-06T00:00:00.000Z",
        },
      ],
    });
  });

  it("refuses a bad property id with a 400 naming it, and a call without a key with 401", async () => {
    const bad = await call("/api/v1/data-quality?property_id=%20&from=2003-03-04", { headers: ADMIN });
    expect(bad.status).toBe(400);
    expect((await envelope(bad)).error.message).toContain("property_id:");
    expect((await call(`/api/v1/data-quality?property_id=${P}`)).status).toBe(401);
  });
});
