/**
 * GDPR erasure end to end in workerd, against the real ClickHouse and PostgreSQL: traffic through
 * the real consumer (archive, actors, ClickHouse) and the warehouse's own load, then
 * `DELETE /api/v1/properties/{id}/visitors/{user_id}` and the ErasureDO's alarms. Afterwards the
 * property's reports equal those of a property that got the same traffic without that visitor,
 * and no store holds the visitor: archive hours (own and pooled files), ClickHouse, the warehouse,
 * the session actors. Also: the export before and after, the audit, a step that crashes after its
 * work and is retried, and access control.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { beforeAll, describe, expect, it } from "vitest";
import { warehouseWork } from "../../consumers/warehouse-jobs.ts";
import { readManifest } from "../../core/archive/compaction-step.ts";
import { hourPrefix, liveFiles, partitionOf } from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { listAll } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { type ErasureAudit, type ErasureStatus, MAX_QUEUED_ERASURES } from "../../core/privacy/erasure.ts";
import { sessionShards } from "../../core/property/property.ts";
import { HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { sessionActorKey } from "../../durable-objects/client.ts";
import type { ErasureWork } from "../../durable-objects/erasure-do.ts";
import { archiveStore } from "../../platform/archive/store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import {
  ADMIN,
  type CreatedProperty,
  call,
  consumeMessage,
  createProperty,
  envelope,
  YESTERDAY_10H,
} from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const T = YESTERDAY_10H;
const DAY = new Date(T).toISOString().slice(0, 10);
const WEEK_AGO = new Date(T - 6 * 24 * HOUR_MS).toISOString().slice(0, 10);
const USER = `${run}-user-42`;
const GONE = [`${run}-laptop`, `${run}-phone`];

/** Alice and Bob stay; the user (a laptop and a phone, one event of the phone before it logged in) goes. */
function traffic(property: string, withUser: boolean): Event[] {
  const ev = (id: string, client: string, t: number, extra: Partial<Event> = {}) =>
    makeEvent({
      property_id: property,
      event_id: `${run}-${id}`,
      client_id: `${run}-${client}`,
      event_timestamp: t,
      ...extra,
    });
  const kept = [
    ev("a1", "alice", T, { page_path: "/" }),
    ev("a2", "alice", T + 5 * MINUTE_MS, { page_path: "/pricing" }),
    ev("b1", "bob", T + 10 * MINUTE_MS, { page_path: "/docs", country: "FR" }),
  ];
  const user = [
    ev("u1", "laptop", T + 2 * MINUTE_MS, { page_path: "/secret", user_id: USER, country: "US" }),
    ev("u2", "laptop", T + 20 * MINUTE_MS, { page_path: "/pricing", user_id: USER, country: "US" }),
    ev("u3", "phone", T + 3 * HOUR_MS - MINUTE_MS, { page_path: "/", device_type: "mobile", country: "US" }),
    ev("u4", "phone", T + 3 * HOUR_MS, { page_path: "/account", device_type: "mobile", user_id: USER, country: "US" }),
  ];
  return withUser ? [...kept, ...user] : kept;
}

let subject: CreatedProperty;
let control: CreatedProperty;
const bearer = (p: CreatedProperty) => ({ Authorization: `Bearer ${p.api_key}` });

/** The query API's answer (past the cache) for the subject or the control property. */
async function answer(p: CreatedProperty, spec: Record<string, unknown>): Promise<unknown> {
  const res = await call("/api/v1/query", {
    method: "POST",
    headers: { ...bearer(p), "Content-Type": "application/json", "Cache-Control": "no-cache" },
    body: JSON.stringify({ property_id: p.property_id, timezone: "UTC", ...spec }),
  });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${await res.text()}`);
  return (await res.json<{ results: unknown }>()).results;
}

const REPORTS = [
  {
    metrics: ["visitors", "visits", "pageviews", "events", "bounce_rate", "avg_session_duration"],
    date_range: [DAY, DAY],
  },
  { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], date_range: [DAY, DAY] },
  { metrics: ["visitors", "visits"], dimensions: ["visit:country"], date_range: [WEEK_AGO, DAY] },
  { metrics: ["visitors", "pageviews"], dimensions: ["time:hour"], date_range: [DAY, DAY] },
];

/**
 * Runs the job's alarm until it has finished. The alarm a start sets may already be running on its
 * own; a second call waits for it, so each call is one alarm's work after the last.
 */
async function drain(p: CreatedProperty, erasureId: string): Promise<ErasureStatus | undefined> {
  const stub = env.ERASURE_DO.getByName(p.property_id);
  for (let i = 0; i < 20; i++) {
    const status = await runInDurableObject(stub, async (instance) => {
      await instance.alarm();
      return instance.status(erasureId);
    });
    if (status?.state === "done" || status?.state === "failed") return status;
  }
  return stub.status(erasureId);
}

async function status(p: CreatedProperty, id: string): Promise<ErasureStatus> {
  const res = await call(`/api/v1/properties/${p.property_id}/erasures/${id}`, { headers: bearer(p) });
  expect(res.status).toBe(200);
  return res.json<ErasureStatus>();
}

/** The subject's archived records in an hour: its own files and its rows in the pooled file. */
async function archived(property: string, hour: number) {
  const store = await archiveStore(env);
  const records = [];
  for (const id of [property, POOLED_ARCHIVE_ID]) {
    const partition = partitionOf(id, hour);
    const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
    for (const key of liveFiles(listed, (await readManifest(store, partition)).manifest)) {
      const object = await store.get(key);
      if (object) records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
    }
  }
  return records.filter((r) => r.property_id === property);
}

async function clickHouseRows(property: string): Promise<number> {
  const result = await clickHouseClient(loadConfig(env)).query({
    query:
      "SELECT (SELECT count() FROM events WHERE property_id = {p:String} AND (client_id IN {ids:Array(String)} OR user_id = {u:String})) + (SELECT count() FROM session_log WHERE property_id = {p:String} AND client_id IN {ids:Array(String)}) AS n",
    query_params: { p: property, ids: GONE, u: USER },
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return Number((await result.json<{ n: number }>())[0]?.n);
}

async function warehouseRows(property: string): Promise<number> {
  return withWarehouse(env.WAREHOUSE_URL, async (db) => {
    const events = await db
      .selectFrom("events")
      .select(sql<number>`COUNT(*)`.as("n"))
      .where("property_id", "=", property)
      .where("client_id", "in", GONE)
      .executeTakeFirstOrThrow();
    const sessions = await db
      .selectFrom("sessions")
      .select(sql<number>`COUNT(*)`.as("n"))
      .where("property_id", "=", property)
      .where("client_id", "in", GONE)
      .executeTakeFirstOrThrow();
    return Number(events.n) + Number(sessions.n);
  });
}

async function dailyMetrics(property: string) {
  return withWarehouse(env.WAREHOUSE_URL, (db) =>
    db
      .selectFrom("daily_metrics")
      .select(["day", "dimension", "value", "visitors", "visits", "pageviews", "events", "bounces"])
      .where("property_id", "=", property)
      .orderBy(["day", "dimension", "value"])
      .execute(),
  );
}

async function exported(p: CreatedProperty, visitor: string) {
  const res = await call(`/api/v1/properties/${p.property_id}/visitors/${encodeURIComponent(visitor)}/export`, {
    headers: bearer(p),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/x-ndjson");
  const text = await res.text();
  return text === ""
    ? []
    : text
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The property's session actor count, as the consumer and the erasure compute it. */
async function buckets(p: CreatedProperty): Promise<number> {
  return sessionShards(await env.PROPERTY_DO.getByName(p.property_id).config(), loadConfig(env).SESSION_BUCKETS);
}

beforeAll(async () => {
  subject = await createProperty({ property_id: `ER-S-${run}` });
  control = await createProperty({ property_id: `ER-C-${run}` });
  await consumeMessage(`${run}-s`, traffic(subject.property_id, true));
  await consumeMessage(`${run}-c`, traffic(control.property_id, false));
  // The consumer marked these closed hours for WarehouseDO to reload seconds later; this file loads
  // them itself, so that reload would only race the erasure (this file's actor storage is its own).
  await runInDurableObject(env.WAREHOUSE_DO.getByName("global"), async (_actor, state) => {
    await state.storage.deleteAlarm();
    await state.storage.deleteAll();
  });
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    for (const p of [subject, control])
      for (const hour of [T, T + HOUR_MS, T + 2 * HOUR_MS, T + 3 * HOUR_MS])
        expect((await warehouseWork.loadHour(env, db, hour, { property: p.property_id, force: true })).status).toBe(
          "done",
        );
    await warehouseWork.aggregateDay(env, db, DAY);
  });
});

// ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures.
describe("GDPR erasure of a visitor", { timeout: 180_000 }, () => {
  it("exports the visitor's events, found by user id, both devices, once each", async () => {
    const lines = await exported(subject, USER);
    expect(lines.map((l) => l.event_id).sort()).toEqual(["u1", "u2", "u3", "u4"].map((id) => `${run}-${id}`));
    expect(lines[0]).toMatchObject({
      client_id: `${run}-laptop`,
      page_path: "/secret",
      event_timestamp: new Date(T + 2 * MINUTE_MS).toISOString(),
    });
  });

  it("answers 202 with a status URL, and the job's steps leave every report as if the visitor never came", async () => {
    const before = await Promise.all(REPORTS.map((r) => answer(subject, r)));
    expect(before).not.toEqual(await Promise.all(REPORTS.map((r) => answer(control, r))));
    expect(await clickHouseRows(subject.property_id)).toBeGreaterThan(0);
    expect(await warehouseRows(subject.property_id)).toBeGreaterThan(0);

    const res = await call(`/api/v1/properties/${subject.property_id}/visitors/${encodeURIComponent(USER)}`, {
      method: "DELETE",
      headers: bearer(subject),
    });
    expect(res.status).toBe(202);
    const body = await res.json<{ erasure_id: string; status_url: string; status: ErasureStatus }>();
    expect(body.status_url).toBe(`/api/v1/properties/${subject.property_id}/erasures/${body.erasure_id}`);
    expect(body.status).toMatchObject({ state: "queued", step: "find", scope: "visitor" });
    await drain(subject, body.erasure_id);

    const done = await status(subject, body.erasure_id);
    expect(done).toMatchObject({
      state: "done",
      step: "notify",
      client_ids_found: 2,
      requested_by: `key:${subject.key_id}`,
    });
    expect(done.stores.archive).toMatchObject({ state: "done", rows_removed: 4 });
    expect(done.stores.clickhouse).toMatchObject({ state: "done", days_rebuilt: 1 });
    expect(done.stores.clickhouse.rows_removed).toBeGreaterThanOrEqual(4);
    expect(done.stores.warehouse).toMatchObject({ state: "done", days_rebuilt: 1 });
    // The warehouse will load those hours again from the rewritten archive (not in this file: it would race the next test).
    const warehouseActor = env.WAREHOUSE_DO.getByName("global");
    expect((await warehouseActor.pendingHours()).sort((a, b) => a - b)).toEqual([T, T + 2 * HOUR_MS, T + 3 * HOUR_MS]);
    await runInDurableObject(warehouseActor, async (_actor, state) => {
      await state.storage.deleteAlarm();
      await state.storage.deleteAll();
    });
    expect(done.stores.session_actors.rows_removed).toBe(2);
    expect(done.stores.live_windows.state).toBe("partial");

    for (const [i, report] of REPORTS.entries())
      expect([i, await answer(subject, report)]).toEqual([i, await answer(control, report)]);
    expect(await dailyMetrics(subject.property_id)).toEqual(await dailyMetrics(control.property_id));
    expect(await clickHouseRows(subject.property_id)).toBe(0);
    expect(await warehouseRows(subject.property_id)).toBe(0);
    // 10:00 keeps Alice's and Bob's records; 12:00 and 13:00 held only the phone's.
    expect((await archived(subject.property_id, T)).map((r) => r.event_id).sort()).toEqual(
      ["a1", "a2", "b1"].map((id) => `${run}-${id}`),
    );
    expect(await archived(subject.property_id, T + 2 * HOUR_MS)).toEqual([]);
    expect(await archived(subject.property_id, T + 3 * HOUR_MS)).toEqual([]);
    for (const client of GONE) {
      const key = sessionActorKey(subject.property_id, client, await buckets(subject));
      const held = await runInDurableObject(env.SESSION_DO.getByName(key), async (actor) => actor.visitors.get(client));
      expect(held).toBeUndefined();
    }
    expect(await exported(subject, USER)).toEqual([]);
  });

  it("keeps an audit record naming who asked, the visitor's hash only, and what each store removed", async () => {
    const res = await call(`/api/v1/properties/${subject.property_id}/erasures`, { headers: ADMIN });
    const { erasures } = await res.json<{ erasures: ErasureAudit[] }>();
    expect(erasures).toHaveLength(1);
    const [audit] = erasures;
    const hash = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(USER))),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    expect(audit).toMatchObject({
      scope: "visitor",
      visitor_sha256: hash,
      requested_by: `key:${subject.key_id}`,
      state: "done",
    });
    expect(JSON.stringify(erasures)).not.toContain(USER);
    expect(Date.parse(audit?.finished_at ?? "")).toBeGreaterThanOrEqual(Date.parse(audit?.requested_at ?? ""));
  });

  it("retries a step that crashed after its work, and converges to the same reports", async () => {
    const stub = env.ERASURE_DO.getByName(control.property_id);
    await runInDurableObject(stub, (instance) => {
      const holder = instance as unknown as { work: ErasureWork };
      const real = holder.work;
      Object.defineProperty(instance, "work", {
        configurable: true,
        value: {
          ...real,
          eraseClickHouse: async (...args: Parameters<ErasureWork["eraseClickHouse"]>) => {
            await real.eraseClickHouse(...args);
            Object.defineProperty(instance, "work", { configurable: true, value: real });
            throw new Error("crashed before recording progress");
          },
        },
      });
    });
    const before = await Promise.all(REPORTS.map((r) => answer(control, r)));
    // Started (and asked again while it waits: the same erasure) with its alarm taken away, so the first run is this test's.
    const bob = {
      property_id: control.property_id,
      scope: "visitor" as const,
      visitor: `${run}-bob`,
      requested_by: "admin",
    };
    const [started, repeated] = await runInDurableObject(stub, async (instance, state) => {
      const both = [await instance.start(bob), await instance.start(bob)];
      await state.storage.deleteAlarm();
      return both;
    });
    expect(repeated?.erasure_id).toBe(started?.erasure_id);
    const erasureId = started?.erasure_id ?? "";
    const failed = await runInDurableObject(stub, async (instance, state) => {
      await instance.alarm();
      await state.storage.deleteAlarm();
      return instance.status(erasureId);
    });
    expect(failed).toMatchObject({ state: "running", step: "clickhouse", attempts: 1 });
    expect(failed?.last_error).toContain("crashed before recording progress");
    expect(await drain(control, erasureId)).toMatchObject({ state: "done", attempts: 0 });
    const after = await Promise.all(REPORTS.map((r) => answer(control, r)));
    expect(after).not.toEqual(before);
    // Bob's one pageview is gone from the day's totals; Alice's visit is whole.
    expect(after[0]).toEqual([{ dimensions: [], metrics: [1, 1, 2, 2, 0, 300] }]);
  });

  it("refuses callers without access, other properties' keys and malformed visitors", async () => {
    const path = `/api/v1/properties/${subject.property_id}/visitors/someone`;
    expect((await call(path, { method: "DELETE" })).status).toBe(401);
    const foreign = await call(path, { method: "DELETE", headers: bearer(control) });
    expect(foreign.status).toBe(403);
    expect((await call(`${path}/export`, { headers: bearer(control) })).status).toBe(403);
    expect(
      (await call(`/api/v1/properties/${subject.property_id}/erasures`, { headers: bearer(control) })).status,
    ).toBe(403);
    const long = await call(`/api/v1/properties/${subject.property_id}/visitors/${"x".repeat(257)}`, {
      method: "DELETE",
      headers: bearer(subject),
    });
    expect(long.status).toBe(400);
    expect((await envelope(long)).error.message).toMatch(/^visitor: must be at most 256 characters/);
    const control_ = await call(`/api/v1/properties/${subject.property_id}/visitors/a%01b`, {
      method: "DELETE",
      headers: bearer(subject),
    });
    expect((await envelope(control_)).error).toMatchObject({
      status: 400,
      message: "visitor: must not contain control characters",
    });
    const unknown = await call(
      `/api/v1/properties/${subject.property_id}/erasures/00000000-0000-0000-0000-000000000000`,
      { headers: bearer(subject) },
    );
    expect(unknown.status).toBe(404);
  });

  it("answers 429 with Retry-After while the property has as many erasures waiting as it may", async () => {
    const busy = await createProperty({ property_id: `ER-B-${run}` });
    await runInDurableObject(env.ERASURE_DO.getByName(busy.property_id), (_instance, state) =>
      state.storage.put(
        "queue",
        Array.from({ length: MAX_QUEUED_ERASURES }, (_, i) => `waiting-${i}`),
      ),
    );
    const res = await call(`/api/v1/properties/${busy.property_id}/visitors/someone`, {
      method: "DELETE",
      headers: bearer(busy),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("60");
    expect((await envelope(res)).error.code).toBe("too_many_erasures");
  });
});
