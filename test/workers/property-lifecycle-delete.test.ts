/**
 * DELETE /api/v1/properties/{id}: the property stops at once (events, keys, sockets), its domains
 * are freed, an audit record stays, its erasure is named; repeating the DELETE, or repeating it after
 * a crash at any step, finishes the same deletion.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { ErasureStatus, PropertyDeletion } from "../../core/privacy/erasure.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { CLOSE_PROPERTY_DELETED } from "../../durable-objects/live-sockets.ts";
import { writeTombstone } from "../../durable-objects/property-lifecycle.ts";
import { clickHouseClient } from "../../platform/clickhouse.ts";
import { loadConfig } from "../../platform/config.ts";
import { ADMIN, type CreatedProperty, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const registry = env.REGISTRY_DO.getByName("global");
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Deletion = PropertyDeletion;

const remove = (id: string) => call(`/api/v1/properties/${id}`, { method: "DELETE", headers: ADMIN });

const collect = (id: string) =>
  call("/collect", {
    method: "POST",
    body: JSON.stringify({
      property_id: id,
      client_id: "c1",
      event_type: "pageview",
      page_url: "https://example.com/",
    }),
  });

const addGoal = (id: string) =>
  call(`/api/v1/properties/${id}/goals`, {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Signup", kind: "event", event_name: "signup" }),
  });

const storedKeys = (id: string) =>
  runInDurableObject(env.PROPERTY_DO.getByName(id), async (_instance, state) => [
    ...(await state.storage.list()).keys(),
  ]);

async function openSocket(p: CreatedProperty, bearer: string) {
  const res = await call(`/ws/realtime?property=${p.property_id}`, {
    headers: { Upgrade: "websocket", Authorization: `Bearer ${bearer}` },
  });
  const ws = res.webSocket;
  if (!ws) throw new Error(`no socket: ${res.status}`);
  const closed: { code: number; reason: string }[] = [];
  ws.accept();
  ws.addEventListener("close", (e) => {
    closed.push({ code: e.code, reason: e.reason });
  });
  return closed;
}

describe("DELETE /api/v1/properties/{id}", () => {
  it("stops the property at once, frees its domains, closes its sockets and keeps an audit record", async () => {
    const p = await createProperty({ property_id: "UA-DEL-1", domains: ["del.example"] });
    expect((await addGoal("UA-DEL-1")).status).toBe(201);
    expect((await collect("UA-DEL-1")).status).toBe(202);
    const keySocket = await openSocket(p, p.api_key);
    const adminSocket = await openSocket(p, ADMIN.Authorization.slice("Bearer ".length));

    const res = await remove("UA-DEL-1");
    expect(res.status).toBe(202);
    const deletion = await res.json<Deletion>();
    expect(deletion).toEqual({
      property_id: "UA-DEL-1",
      deleted_at: expect.any(String),
      deleted_by: "admin",
      erasure_id: expect.stringMatching(UUID),
      status_url: `/api/v1/properties/UA-DEL-1/erasures/${deletion.erasure_id}`,
      status: expect.objectContaining({ erasure_id: deletion.erasure_id, scope: "property", requested_by: "admin" }),
    });
    expect(res.headers.get("Location")).toBe(deletion.status_url);

    const refused = await collect("UA-DEL-1");
    expect(refused.status).toBe(404);
    expect((await envelope(refused)).error.code).toBe("property_not_found");
    expect(await env.PROPERTY_DO.getByName("UA-DEL-1").verifyKey(p.api_key)).toBe(false);
    await vi.waitFor(() => {
      expect(keySocket).toEqual([{ code: CLOSE_PROPERTY_DELETED, reason: "property deleted" }]);
      expect(adminSocket).toEqual([{ code: CLOSE_PROPERTY_DELETED, reason: "property deleted" }]);
    });
    const read = await call("/api/v1/properties/UA-DEL-1", { headers: ADMIN });
    expect(read.status).toBe(410);
    expect((await envelope(read)).error.code).toBe("property_deleted");
    expect(await registry.propertiesForHost("del.example")).toEqual([]);
    // The actor keeps the tombstone only: keys, MP secret, goals and live windows are gone.
    expect(await storedKeys("UA-DEL-1")).toEqual(["tombstone"]);

    const listed = await (await call("/api/v1/properties", { headers: ADMIN })).json<{
      properties: { property_id: string }[];
      deleted: Record<string, unknown>[];
    }>();
    expect(listed.properties.map((e) => e.property_id)).not.toContain("UA-DEL-1");
    expect(listed.deleted).toContainEqual(
      expect.objectContaining({
        property_id: "UA-DEL-1",
        status: "deleted",
        deleted_by: "admin",
        deleted_at: Date.parse(deletion.deleted_at),
        erasure_id: deletion.erasure_id,
        domains: ["del.example"],
        session_shards: 1,
      }),
    );
  });

  it("answers a repeated DELETE with the first deletion, and never gives the id out again", async () => {
    await createProperty({ property_id: "UA-DEL-2" });
    const { status: _first, ...first } = await (await remove("UA-DEL-2")).json<Deletion>();
    const again = await remove("UA-DEL-2");
    expect(again.status).toBe(202);
    const { status, ...repeated } = await again.json<Deletion>();
    expect(repeated).toEqual(first);
    expect(status.erasure_id).toBe(first.erasure_id);

    const recreate = await call("/api/v1/properties", {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ property_id: "UA-DEL-2", name: "Again", domains: ["again.example"] }),
    });
    expect(recreate.status).toBe(409);
    expect((await envelope(recreate)).error.code).toBe("property_deleted");
    expect(await registry.propertiesForHost("again.example")).toEqual([]);
  });

  it("is for owners and the admin token only: an API key is refused", async () => {
    const p = await createProperty({ property_id: "UA-DEL-6" });
    expect((await call("/api/v1/properties/UA-DEL-6", { method: "DELETE" })).status).toBe(401);
    const byKey = await call("/api/v1/properties/UA-DEL-6", {
      method: "DELETE",
      headers: { Authorization: `Bearer ${p.api_key}` },
    });
    expect(byKey.status).toBe(403);
    expect(await env.PROPERTY_DO.getByName("UA-DEL-6").config()).toBeDefined();
  });

  it("answers 404 for an id that never existed, and drops a reservation left without its PropertyDO", async () => {
    expect((await remove("UA-NEVER-1")).status).toBe(404);
    await registry.reserve({
      property_id: "UA-DEL-3",
      name: "Half",
      domains: ["half.example"],
      created_at: Date.now(),
    });
    expect((await remove("UA-DEL-3")).status).toBe(404);
    expect(await registry.entry("UA-DEL-3")).toBeUndefined();
    expect(await registry.propertiesForHost("half.example")).toEqual([]);
    expect((await createProperty({ property_id: "UA-DEL-3" })).property_id).toBe("UA-DEL-3");
  });

  it("keeps no live windows for events still queued when the property was deleted, and arms a sweep", async () => {
    await createProperty({ property_id: "UA-DEL-4" });
    await remove("UA-DEL-4");
    const event = makeEvent({ property_id: "UA-DEL-4", event_id: crypto.randomUUID(), event_timestamp: Date.now() });
    await consumeMessage(`del-4-${crypto.randomUUID()}`, [event]);
    expect(await env.PROPERTY_DO.getByName("UA-DEL-4").storedWindows(Date.now())).toEqual([]);
    expect(await storedKeys("UA-DEL-4")).toEqual(["sweep_due", "tombstone"]);
  });
});

/** Runs the property's erasure job alarm by alarm until it has finished. */
async function drain(id: string, erasureId: string): Promise<ErasureStatus | undefined> {
  const stub = env.ERASURE_DO.getByName(id);
  for (let i = 0; i < 20; i++) {
    const status = await runInDurableObject(stub, async (instance) => {
      await instance.alarm();
      return instance.status(erasureId);
    });
    if (status?.state === "done" || status?.state === "failed") return status;
  }
  return stub.status(erasureId);
}

async function clickHouseRows(id: string): Promise<number> {
  const result = await clickHouseClient(loadConfig(env)).query({
    query: "SELECT count() AS n FROM events WHERE property_id = {p:String}",
    query_params: { p: id },
    format: "JSONEachRow",
  });
  const [row] = await result.json<{ n: string }>();
  return Number(row?.n);
}

describe("the deleted property's data", () => {
  it("is erased by the erasure the DELETE started, which its status URL reports", async () => {
    await createProperty({ property_id: "UA-DEL-5" });
    const events = [1, 2, 3].map((i) =>
      makeEvent({
        property_id: "UA-DEL-5",
        event_id: crypto.randomUUID(),
        client_id: `c${i}`,
        event_timestamp: Date.now(),
      }),
    );
    await consumeMessage(`del-5-${crypto.randomUUID()}`, events);
    expect(await clickHouseRows("UA-DEL-5")).toBe(3);

    const deletion = await (await remove("UA-DEL-5")).json<Deletion>();
    const done = await drain("UA-DEL-5", deletion.erasure_id);
    expect(done).toMatchObject({ state: "done", scope: "property", requested_by: "admin" });
    expect(done?.stores.archive.state).toBe("done");
    expect(await clickHouseRows("UA-DEL-5")).toBe(0);
    const status = await call(deletion.status_url, { headers: ADMIN });
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ erasure_id: deletion.erasure_id, state: "done" });
  }, 180_000); // ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures

  it("is swept again when events accepted before the deletion reached every edge arrive after its erasure", async () => {
    await createProperty({ property_id: "UA-DEL-7" });
    const deletion = await (await remove("UA-DEL-7")).json<Deletion>();
    expect(await drain("UA-DEL-7", deletion.erasure_id)).toMatchObject({ state: "done" });
    const late = [1, 2].map((i) =>
      makeEvent({
        property_id: "UA-DEL-7",
        event_id: crypto.randomUUID(),
        client_id: `c${i}`,
        event_timestamp: Date.now(),
      }),
    );
    await consumeMessage(`del-7-${crypto.randomUUID()}`, late);
    expect(await clickHouseRows("UA-DEL-7")).toBe(2);

    expect(await runDurableObjectAlarm(env.PROPERTY_DO.getByName("UA-DEL-7"))).toBe(true);
    const swept = await drain("UA-DEL-7", `${deletion.erasure_id}-sweep-1`);
    expect(swept).toMatchObject({ state: "done", scope: "property", requested_by: "tally:events-after-deletion" });
    expect(await clickHouseRows("UA-DEL-7")).toBe(0);
    expect(await storedKeys("UA-DEL-7")).toEqual(["sweeps", "tombstone"]);
  }, 180_000); // ClickHouse runs a table's DELETEs one at a time and workers files share one database: this waits behind others' erasures
});

describe("a deletion interrupted by a crash", () => {
  it("is finished by the next DELETE after it stopped between the PropertyDO's tombstone and the registry", async () => {
    await createProperty({ property_id: "UA-DELC-1", domains: ["delc1.example"] });
    const tombstone = await env.PROPERTY_DO.getByName("UA-DELC-1").remove("admin", Date.now());
    expect(await registry.entry("UA-DELC-1")).toMatchObject({ status: "active" });
    expect(await registry.propertiesForHost("delc1.example")).toEqual(["UA-DELC-1"]);

    const res = await remove("UA-DELC-1");
    expect(res.status).toBe(202);
    expect(await res.json()).toMatchObject({ erasure_id: tombstone?.erasure_id });
    expect(await registry.entry("UA-DELC-1")).toMatchObject({ status: "deleted", erasure_id: tombstone?.erasure_id });
    expect(await registry.propertiesForHost("delc1.example")).toEqual([]);
  });

  it("is recorded in the registry by an admin read after it stopped at the tombstone", async () => {
    await createProperty({ property_id: "UA-DELC-2", domains: ["delc2.example"] });
    await env.PROPERTY_DO.getByName("UA-DELC-2").remove("admin", Date.now());
    expect((await call("/api/v1/properties/UA-DELC-2", { headers: ADMIN })).status).toBe(410);
    expect(await registry.entry("UA-DELC-2")).toMatchObject({ status: "deleted" });
    expect(await registry.propertiesForHost("delc2.example")).toEqual([]);
  });

  it("starts the erasure when it stopped after the registry recorded the deletion", async () => {
    await createProperty({ property_id: "UA-DELC-4" });
    const tombstone = await env.PROPERTY_DO.getByName("UA-DELC-4").remove("admin", Date.now());
    if (!tombstone) throw new Error("no tombstone");
    await registry.markDeleted(tombstone);
    const erasures = env.ERASURE_DO.getByName("UA-DELC-4");
    expect(await erasures.status(tombstone.erasure_id)).toBeUndefined();

    expect((await remove("UA-DELC-4")).status).toBe(202);
    expect(await erasures.status(tombstone.erasure_id)).toMatchObject({ scope: "property", requested_by: "admin" });
  });

  it("finishes wiping the PropertyDO when it stopped after the tombstone was written", async () => {
    const p = await createProperty({ property_id: "UA-DELC-3" });
    expect((await addGoal("UA-DELC-3")).status).toBe(201);
    const stub = env.PROPERTY_DO.getByName("UA-DELC-3");
    await runInDurableObject(stub, async (_instance, state) => writeTombstone(state.storage, "admin", Date.now()));
    // Credentials go with the configuration, in the tombstone's own transaction.
    expect(await stub.config()).toBeUndefined();
    expect(await stub.verifyKey(p.api_key)).toBe(false);
    expect(await storedKeys("UA-DELC-3")).toEqual(["goals", "tombstone"]);

    expect((await remove("UA-DELC-3")).status).toBe(202);
    expect(await storedKeys("UA-DELC-3")).toEqual(["tombstone"]);
  });
});
