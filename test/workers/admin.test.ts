/** The admin API and the PropertyDO behind it: properties, keys shown once and stored hashed. */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, createProperty, envelope } from "./helpers.ts";

/** The secret part of `tk_<8 hex>_<secret>` (the secret itself may contain "_"). */
const secretOf = (apiKey: string) => apiKey.slice("tk_".length + 9);

const json = (body: unknown, method = "POST") => ({
  method,
  headers: { ...ADMIN, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

describe("admin API", () => {
  it("refuses calls without the admin token, or with a wrong one, with 401", async () => {
    expect((await call("/api/v1/properties")).status).toBe(401);
    const wrong = await call("/api/v1/properties", { headers: { Authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await envelope(wrong)).error.code).toBe("unauthorized");
  });

  it("creates a property, returning its API key and MP secret once", async () => {
    const res = await call(
      "/api/v1/properties",
      json({ name: "Shop", domains: ["https://Shop.Example.org/"], timezone: "Europe/Berlin" }),
    );
    expect(res.status).toBe(201);
    const created = await res.json<Record<string, unknown>>();
    expect(created).toMatchObject({
      property_id: expect.stringMatching(/^UA-\d{8}-1$/),
      name: "Shop",
      domains: ["shop.example.org"],
      timezone: "Europe/Berlin",
      api_key: expect.stringMatching(/^tk_[0-9a-f]{8}_/),
      mp_api_secret: expect.any(String),
    });
    const read = await call(`/api/v1/properties/${created.property_id}`, { headers: ADMIN });
    const body = await read.json<Record<string, unknown>>();
    expect(body).not.toHaveProperty("api_key");
    expect(JSON.stringify(body)).not.toContain(secretOf(String(created.api_key)));
    expect(body.keys).toEqual([expect.objectContaining({ key_id: created.key_id, revoked_at: null })]);
  });

  it("stores only hashes of keys and secrets in the actor", async () => {
    const created = await createProperty({ property_id: "UA-HASHED-1" });
    const stored = await runInDurableObject(env.PROPERTY_DO.getByName("UA-HASHED-1"), async (_instance, state) =>
      JSON.stringify([...(await state.storage.list()).entries()]),
    );
    expect(stored).not.toContain(secretOf(created.api_key));
    expect(stored).not.toContain(created.mp_api_secret);
  });

  it("refuses a taken property_id with 409 and bad fields with 400 naming them", async () => {
    await createProperty({ property_id: "UA-TAKEN-1" });
    const dup = await call("/api/v1/properties", json({ property_id: "UA-TAKEN-1", name: "x", domains: ["a.com"] }));
    expect(dup.status).toBe(409);
    const bad = await call("/api/v1/properties", json({ name: "", domains: ["not a host"], timezone: "Nowhere/City" }));
    expect(bad.status).toBe(400);
    const message = (await envelope(bad)).error.message;
    expect(message).toContain("name:");
    expect(message).toContain("domains[0]: must be a host name");
    expect(message).toContain("timezone: must be an IANA time zone");
  });

  it("patches a property and keeps the domain index in step", async () => {
    await createProperty({ property_id: "UA-PATCH-1", domains: ["old.example"] });
    const res = await call(
      "/api/v1/properties/UA-PATCH-1",
      json({ domains: ["new.example"], privacy: { ip_mode: "none" } }, "PATCH"),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      domains: ["new.example"],
      privacy: { ip_mode: "none", respect_dnt: false },
    });
    const registry = env.REGISTRY_DO.getByName("global");
    expect(await registry.propertiesForHost("www.new.example")).toContain("UA-PATCH-1");
    expect(await registry.propertiesForHost("old.example")).not.toContain("UA-PATCH-1");
  });

  it("issues and revokes API keys; a revoked key stops working", async () => {
    const created = await createProperty({ property_id: "UA-KEYS-1" });
    const stub = env.PROPERTY_DO.getByName("UA-KEYS-1");
    const res = await call("/api/v1/properties/UA-KEYS-1/keys", json({ label: "ci" }));
    expect(res.status).toBe(201);
    const key = await res.json<{ key_id: string; api_key: string }>();
    expect(await stub.verifyKey(key.api_key)).toBe(true);
    expect(await stub.verifyKey(created.api_key)).toBe(true);
    const revoke = await call(`/api/v1/properties/UA-KEYS-1/keys/${key.key_id}`, { method: "DELETE", headers: ADMIN });
    expect(revoke.status).toBe(200);
    expect(await stub.verifyKey(key.api_key)).toBe(false);
    expect(await stub.verifyKey(`${key.api_key.slice(0, -1)}x`)).toBe(false);
    expect(
      (await call(`/api/v1/properties/UA-KEYS-1/keys/${key.key_id}`, { method: "DELETE", headers: ADMIN })).status,
    ).toBe(404);
  });

  it("rotates the Measurement Protocol secret", async () => {
    const created = await createProperty({ property_id: "UA-MP-1" });
    const stub = env.PROPERTY_DO.getByName("UA-MP-1");
    expect(await stub.verifyMpSecret(created.mp_api_secret)).toBe(true);
    const res = await call("/api/v1/properties/UA-MP-1/mp-secret", { method: "POST", headers: ADMIN });
    const { mp_api_secret } = await res.json<{ mp_api_secret: string }>();
    expect(await stub.verifyMpSecret(mp_api_secret)).toBe(true);
    expect(await stub.verifyMpSecret(created.mp_api_secret)).toBe(false);
  });

  it("stops the old Measurement Protocol secret at the edge at once, though this isolate had just verified it", async () => {
    const created = await createProperty({ property_id: "UA-MP-2", domains: ["mp2.example"] });
    const send = (secret: string) =>
      call(`/mp/collect?measurement_id=UA-MP-2&api_secret=${secret}`, {
        method: "POST",
        headers: { "User-Agent": "Mozilla/5.0 Firefox/133.0" },
        body: JSON.stringify({ client_id: "1.2", events: [{ name: "page_view", params: {} }] }),
      });
    expect((await send(created.mp_api_secret)).status).toBe(204);
    const res = await call("/api/v1/properties/UA-MP-2/mp-secret", { method: "POST", headers: ADMIN });
    const { mp_api_secret } = await res.json<{ mp_api_secret: string }>();
    expect((await send(created.mp_api_secret)).status).toBe(403);
    expect((await send(mp_api_secret)).status).toBe(204);
  });

  it("answers 404 for a property that does not exist", async () => {
    expect((await call("/api/v1/properties/UA-NONE-1", { headers: ADMIN })).status).toBe(404);
  });
});
