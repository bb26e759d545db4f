/**
 * Saved funnels in workerd: the API over the real Worker and PropertyDO (admin token or the
 * property's own key; the whole list replaced at once, validated with 400s that name the field),
 * and the daily warehouse job reading them through the PropertyDO into `conversion_funnels`.
 */
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAggregates } from "../../consumers/warehouse-aggregates.ts";
import type { SavedFunnel } from "../../core/property/funnels.ts";
import { replayChunk } from "../../core/replay/replay.ts";
import { toWarehouseEventRow } from "../../core/warehouse/rows.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { ADMIN, type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

let property: CreatedProperty;
let other: CreatedProperty;

beforeAll(async () => {
  property = await createProperty({ property_id: "UA-FUNNELS-1" });
  other = await createProperty({ property_id: "UA-FUNNELS-2" });
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const path = (id = property.property_id) => `/api/v1/properties/${id}/funnels`;
const put = (body: unknown, auth: Record<string, string> = bearer(property.api_key), id?: string) =>
  call(path(id), {
    method: "PUT",
    headers: { ...auth, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const SIGNUP: SavedFunnel = {
  id: "signup",
  name: "Signup",
  steps: [
    { kind: "page", value: "/pricing" },
    { kind: "event", value: "signup", label: "Signed up" },
  ],
};

describe("saved funnels API", () => {
  it("replaces and lists the funnels with the property's key and with the admin token", async () => {
    expect(await (await call(path(), { headers: bearer(property.api_key) })).json()).toEqual({ funnels: [] });
    const saved = await put({ funnels: [SIGNUP] });
    expect(saved.status).toBe(200);
    // Each funnel carries who made it and who changed it last (#21), stamped by the server.
    const byKey = { owner: `key ${property.key_id}`, updated_by: `key ${property.key_id}` };
    expect(await saved.json()).toEqual({ funnels: [{ ...SIGNUP, ...byKey, updated_at: expect.any(Number) }] });
    expect(await (await call(path(), { headers: ADMIN })).json()).toEqual({
      funnels: [{ ...SIGNUP, ...byKey, updated_at: expect.any(Number) }],
    });
    // Replaced, not appended to.
    const docs = {
      id: "docs",
      name: "Docs",
      steps: [
        { kind: "page", value: "/docs/**" },
        { kind: "page", value: "/pricing" },
      ],
    };
    expect((await put({ funnels: [docs] }, ADMIN)).status).toBe(200);
    expect(await (await call(path(), { headers: ADMIN })).json()).toEqual({
      funnels: [{ ...docs, owner: "admin token", updated_by: "admin token", updated_at: expect.any(Number) }],
    });
    expect((await put({ funnels: [SIGNUP] })).status).toBe(200);
  });

  it("refuses invalid lists with a 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ funnels: [{ ...SIGNUP, steps: [SIGNUP.steps[0]] }] }, "funnels[0].steps"],
      [
        { funnels: [{ ...SIGNUP, steps: [{ kind: "page", value: "pricing" }, SIGNUP.steps[1]] }] },
        "funnels[0].steps[0].value",
      ],
      [{ funnels: [{ ...SIGNUP, id: "Not An Id" }] }, "funnels[0].id"],
      [{ funnels: [SIGNUP, { ...SIGNUP, name: "Again" }] }, "funnels[1].id"],
      [{ funnels: Array.from({ length: 21 }, (_, i) => ({ ...SIGNUP, id: `f${i}` })) }, "funnels"],
      [{ funnels: [{ ...SIGNUP, colour: "red" }] }, "funnels[0].colour"],
      [{}, "funnels"],
    ];
    for (const [body, field] of cases) {
      const res = await put(body);
      expect(res.status, field).toBe(400);
      expect((await envelope(res)).error.message, field).toContain(`${field}:`);
    }
    expect((await put("{not json")).status).toBe(400);
    // Nothing of the refused lists was kept.
    expect(await (await call(path(), { headers: ADMIN })).json()).toEqual({
      funnels: [
        { ...SIGNUP, owner: expect.any(String), updated_by: expect.any(String), updated_at: expect.any(Number) },
      ],
    });
  });

  it("answers 401 without a key, 403 with another property's key, 404 for no such property", async () => {
    expect((await call(path())).status).toBe(401);
    expect((await call(path(), { headers: bearer(other.api_key) })).status).toBe(403);
    expect((await put({ funnels: [] }, bearer(other.api_key))).status).toBe(403);
    expect((await call(path("UA-NOPE-9"), { headers: ADMIN })).status).toBe(404);
    expect((await put({ funnels: [] }, ADMIN, "UA-NOPE-9")).status).toBe(404);
  });

  it("keeps funnels out of the configuration the collect path reads", async () => {
    const config = await env.PROPERTY_DO.getByName(property.property_id).config();
    expect(JSON.stringify(config)).not.toContain("signup");
  });
});

describe("the daily funnels job", () => {
  let db: Warehouse;
  beforeAll(() => {
    db = openWarehouse(env.WAREHOUSE_URL);
  });
  afterAll(async () => {
    await db.destroy();
  });

  it("counts each saved funnel of the property into conversion_funnels, read through the PropertyDO", async () => {
    const day = Date.UTC(2002, 5, 3);
    const P = property.property_id;
    const at = (client: string, minute: number, page: string, type = "pageview") =>
      makeEvent({
        property_id: P,
        client_id: client,
        event_id: `${client}-${minute}`,
        event_type: type,
        page_path: page,
        event_timestamp: day + minute * 60_000,
      });
    // a: /pricing then signup; b: signup before /pricing (out of order); c: /pricing only.
    const events = [
      at("a", 10, "/pricing"),
      at("a", 12, "/pricing", "signup"),
      at("b", 20, "/", "signup"),
      at("b", 21, "/pricing"),
      at("c", 30, "/pricing"),
    ];
    await db.insertInto("events").values(replayChunk(events, new Map()).events.map(toWarehouseEventRow)).execute();

    await runAggregates(env, db, "2002-06-03");
    const rows = await db
      .selectFrom("conversion_funnels")
      .select(["funnel_id", "step", "step_name", "visitors"])
      .where("property_id", "=", P)
      .where("day", "=", "2002-06-03")
      .orderBy("step")
      .execute();
    expect(rows).toEqual([
      { funnel_id: "signup", step: 1, step_name: "/pricing", visitors: 3 },
      { funnel_id: "signup", step: 2, step_name: "Signed up", visitors: 1 },
    ]);
  });
});
