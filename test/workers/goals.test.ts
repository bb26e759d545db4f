/**
 * Goals and the query quota in workerd: the goals API over the real Worker and PropertyDO (admin
 * token or the property's own API key), and `chargeQuery`'s hourly fixed window on the actor.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

let property: CreatedProperty;
let other: CreatedProperty;

beforeAll(async () => {
  property = await createProperty({ property_id: "UA-GOALS-1" });
  other = await createProperty({ property_id: "UA-GOALS-2" });
});

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const goalsPath = (id = property.property_id) => `/api/v1/properties/${id}/goals`;
const post = (body: unknown, auth: Record<string, string> = bearer(property.api_key), id?: string) =>
  call(goalsPath(id), {
    method: "POST",
    headers: { ...auth, "Content-Type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const list = async (auth: Record<string, string> = bearer(property.api_key)) =>
  (await (await call(goalsPath(), { headers: auth })).json<{ goals: unknown[] }>()).goals;

describe("goals API", () => {
  it("adds, lists and deletes goals with the property's API key", async () => {
    const created = await post({ name: "Pricing", kind: "page", page_path: "/pricing/**" });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ goals: [{ name: "Pricing", kind: "page", page_path: "/pricing/**" }] });
    expect((await post({ name: "Signup", kind: "event", event_name: "signup" })).status).toBe(201);
    expect(await list()).toEqual([
      { name: "Pricing", kind: "page", page_path: "/pricing/**" },
      { name: "Signup", kind: "event", event_name: "signup" },
    ]);
    const deleted = await call(`${goalsPath()}/Pricing`, { method: "DELETE", headers: bearer(property.api_key) });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe("");
    expect(await list()).toEqual([{ name: "Signup", kind: "event", event_name: "signup" }]);
  });

  it("does the same with the admin token, names with spaces and slashes included", async () => {
    const name = "Visit /docs & more";
    expect((await post({ name, kind: "page", page_path: "/docs/*" }, ADMIN)).status).toBe(201);
    expect(await list(ADMIN)).toContainEqual({ name, kind: "page", page_path: "/docs/*" });
    const path = `${goalsPath()}/${encodeURIComponent(name)}`;
    expect((await call(path, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect(await list(ADMIN)).not.toContainEqual(expect.objectContaining({ name }));
  });

  it("keeps goals out of the configuration the collect path reads", async () => {
    await post({ name: "Stored apart", kind: "event", event_name: "apart" });
    const config = await env.PROPERTY_DO.getByName(property.property_id).config();
    expect(JSON.stringify(config)).not.toContain("Stored apart");
  });

  it("refuses calls without a key with 401 and another property's key with 403", async () => {
    const anonymous = await call(goalsPath());
    expect(anonymous.status).toBe(401);
    expect((await envelope(anonymous)).error.code).toBe("unauthorized");
    expect((await post({ name: "x", kind: "event", event_name: "x" }, {})).status).toBe(401);
    const foreign = await call(goalsPath(), { headers: bearer(other.api_key) });
    expect(foreign.status).toBe(403);
    expect(await envelope(foreign)).toEqual({
      error: { code: "forbidden", message: expect.stringContaining(property.property_id), status: 403 },
    });
    const foreignDelete = await call(`${goalsPath()}/Signup`, { method: "DELETE", headers: bearer(other.api_key) });
    expect(foreignDelete.status).toBe(403);
    expect(await list()).toContainEqual(expect.objectContaining({ name: "Signup" }));
  });

  it.each([
    [{ name: "No path", kind: "page" }, 'page_path: is required when kind is "page"'],
    [{ name: "Bad path", kind: "page", page_path: "pricing" }, 'page_path: must start with "/"'],
    [{ name: "No event", kind: "event" }, 'event_name: is required when kind is "event"'],
    [{ kind: "event", event_name: "x" }, "name: is required"],
    [{ name: "x", kind: "click", event_name: "x" }, 'kind: must be "page" or "event"'],
    [{ name: "x", kind: "event", event_name: "x", extra: true }, "extra: is not a known field"],
    ["{not json", "body: is not valid JSON"],
  ])("answers 400 naming the field for %j", async (body, message) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toBe(message);
  });

  it("answers 409 for a name that exists, in any case", async () => {
    await post({ name: "Checkout", kind: "page", page_path: "/checkout" });
    const dup = await post({ name: "CHECKOUT", kind: "event", event_name: "checkout" });
    expect(dup.status).toBe(409);
    expect(await envelope(dup)).toEqual({
      error: { code: "goal_exists", message: 'name: a goal named "CHECKOUT" already exists', status: 409 },
    });
  });

  it("answers 404 for an unknown goal and for an unknown property", async () => {
    const goal = await call(`${goalsPath()}/Nope`, { method: "DELETE", headers: ADMIN });
    expect(goal.status).toBe(404);
    expect((await envelope(goal)).error.code).toBe("goal_not_found");
    for (const res of [
      await call(goalsPath("UA-GOALS-404"), { headers: ADMIN }),
      await post({ name: "x", kind: "event", event_name: "x" }, ADMIN, "UA-GOALS-404"),
      await call(`${goalsPath("UA-GOALS-404")}/x`, { method: "DELETE", headers: ADMIN }),
    ]) {
      expect(res.status).toBe(404);
      expect((await envelope(res)).error.code).toBe("property_not_found");
    }
  });

  it("answers 400 for a malformed property id", async () => {
    const res = await call(goalsPath("!!"), { headers: ADMIN });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain("property_id");
  });
});

describe("query quota (PropertyDO.chargeQuery)", () => {
  const hour = Date.UTC(2026, 10, 20, 9);

  it("allows `limit` queries per clock hour, then refuses until the hour ends", async () => {
    const stub = env.PROPERTY_DO.getByName("UA-QUOTA-1");
    const now = hour + 59 * 60_000 + 30_500; // 09:59:30.5, 29.5 s before the window ends
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await stub.chargeQuery(now + i, 3));
    expect(results.map((r) => [r.allowed, r.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    const refused = results[3];
    expect(refused?.retry_after_seconds).toBe(30);
    expect(refused?.retry_after_seconds).toBeGreaterThanOrEqual(1);
    expect(refused?.retry_after_seconds).toBeLessThanOrEqual(3600);

    const next = await stub.chargeQuery(hour + 3_600_000, 3);
    expect(next).toEqual({ allowed: true, remaining: 2, retry_after_seconds: 3600 });
    const keys = await runInDurableObject(stub, async (_instance, state) => [
      ...(await state.storage.list({ prefix: "quota:" })).keys(),
    ]);
    expect(keys).toEqual([`quota:${hour + 3_600_000}`]);
  });

  it("answers retry_after of at least one second in the hour's last millisecond", async () => {
    const stub = env.PROPERTY_DO.getByName("UA-QUOTA-2");
    const last = hour + 3_600_000 - 1;
    expect(await stub.chargeQuery(last, 1)).toEqual({ allowed: true, remaining: 0, retry_after_seconds: 1 });
    expect(await stub.chargeQuery(last, 1)).toEqual({ allowed: false, remaining: 0, retry_after_seconds: 1 });
  });
});
