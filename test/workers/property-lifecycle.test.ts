/**
 * Creating and renaming a property across RegistryDO and PropertyDO converge after a crash at any
 * step: each test leaves the state a crash would (the steps before it done, by calling the actors
 * as the route does), then shows the next attempt, or a read, completes the job.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { PropertyConfigSchema } from "../../core/property/property.ts";
import { ADMIN, call, envelope } from "./helpers.ts";

const registry = env.REGISTRY_DO.getByName("global");

const json = (body: unknown, method = "POST") => ({
  method,
  headers: { ...ADMIN, "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

const summary = (id: string, domains: string[]) => ({ property_id: id, name: "Half", domains, created_at: Date.now() });

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

describe("creating a property after a crash", () => {
  it("repairs the dev stack's half-created demo: reserved in the registry, no PropertyDO, events 404 until the POST", async () => {
    // The state the old two-write creation left after Ctrl-C: a registry entry (stored before entries had
    // a status) and its domain index, but an empty PropertyDO.
    await runInDurableObject(registry, async (_instance, state) => {
      await state.storage.put("property:UA-DEMO-1", summary("UA-DEMO-1", ["localhost", "example.com"]));
      await state.storage.put("domain:localhost", ["UA-DEMO-1"]);
    });
    expect(await env.PROPERTY_DO.getByName("UA-DEMO-1").config()).toBeUndefined();
    const refused = await collect("UA-DEMO-1");
    expect(refused.status).toBe(404);
    expect((await envelope(refused)).error.code).toBe("property_not_found");
    expect((await call("/api/v1/properties/UA-DEMO-1", { headers: ADMIN })).status).toBe(404);

    // What scripts/dev.ts does on every start when the GET says 404.
    const res = await call(
      "/api/v1/properties",
      json({ property_id: "UA-DEMO-1", name: "Demo", domains: ["localhost", "example.com"] }),
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ property_id: "UA-DEMO-1", api_key: expect.stringMatching(/^tk_/) });
    expect((await collect("UA-DEMO-1")).status).toBe(202);
    expect(await registry.entry("UA-DEMO-1")).toMatchObject({ status: "active", name: "Demo" });
    expect(await registry.propertiesForHost("example.com")).toContain("UA-DEMO-1");
  });

  it("completes a reservation with the retried request's own fields and re-indexes its domains", async () => {
    expect(await registry.reserve(summary("UA-HALF-1", ["first.example"]))).toMatchObject({ status: "creating" });
    const { properties } = await (await call("/api/v1/properties", { headers: ADMIN })).json<{
      properties: { property_id: string; status: string }[];
    }>();
    expect(properties).toContainEqual(expect.objectContaining({ property_id: "UA-HALF-1", status: "creating" }));

    const res = await call(
      "/api/v1/properties",
      json({ property_id: "UA-HALF-1", name: "Half", domains: ["second.example"] }),
    );
    expect(res.status).toBe(201);
    expect(await registry.propertiesForHost("second.example")).toEqual(["UA-HALF-1"]);
    expect(await registry.propertiesForHost("first.example")).toEqual([]);
    const again = await call(
      "/api/v1/properties",
      json({ property_id: "UA-HALF-1", name: "Half", domains: ["x.example"] }),
    );
    expect(again.status).toBe(409);
  });

  it("indexes a PropertyDO created without its registry confirmation, on the next POST or listing", async () => {
    const config = PropertyConfigSchema.parse({
      property_id: "UA-HALF-2",
      name: "Orphan",
      domains: ["orphan.example"],
      timezone: "UTC",
      disabled: false,
      hash_routing: false,
      privacy: {},
      created_at: Date.now(),
    });
    // Crash after the actor's create, before the registry heard of it: the reservation says "creating".
    await registry.reserve({ ...summary("UA-HALF-2", ["orphan.example"]), name: "Orphan" });
    expect(await env.PROPERTY_DO.getByName("UA-HALF-2").create(config)).toHaveProperty("created");

    const listed = await (await call("/api/v1/properties", { headers: ADMIN })).json<{
      properties: { property_id: string; status: string }[];
    }>();
    expect(listed.properties).toContainEqual(expect.objectContaining({ property_id: "UA-HALF-2", status: "active" }));

    // Crash before even the reservation was written (e.g. an index lost): the next POST of the id re-indexes it.
    await runInDurableObject(registry, async (_instance, state) => {
      await state.storage.delete(["property:UA-HALF-2", "domain:orphan.example"]);
    });
    const dup = await call(
      "/api/v1/properties",
      json({ property_id: "UA-HALF-2", name: "Other", domains: ["o.example"] }),
    );
    expect(dup.status).toBe(409);
    expect(await registry.entry("UA-HALF-2")).toMatchObject({ status: "active", name: "Orphan" });
    expect(await registry.propertiesForHost("orphan.example")).toEqual(["UA-HALF-2"]);
    expect(await registry.propertiesForHost("o.example")).toEqual([]);
  });

  it("leaves no half-written registry entry when the reservation fails between its entry and its domain index", async () => {
    // A domain index row the reservation cannot read makes it throw after it wrote the entry.
    await runInDurableObject(registry, async (_instance, state) => state.storage.put("domain:three.example", 42));
    const failed = await runInDurableObject(registry, (instance) =>
      instance.reserve(summary("UA-HALF-3", ["three.example"])).then(
        () => "stored",
        (error: unknown) => String(error),
      ),
    );
    expect(failed).toContain("is not a function");
    expect(await registry.entry("UA-HALF-3")).toBeUndefined();

    await runInDurableObject(registry, async (_instance, state) => state.storage.delete("domain:three.example"));
    const res = await call(
      "/api/v1/properties",
      json({ property_id: "UA-HALF-3", name: "Three", domains: ["three.example"] }),
    );
    expect(res.status).toBe(201);
    expect(await registry.propertiesForHost("three.example")).toEqual(["UA-HALF-3"]);
  });
});

describe("renaming a property after a crash", () => {
  it("re-indexes the domains when the PATCH that changed the PropertyDO is repeated", async () => {
    expect(
      (await call("/api/v1/properties", json({ property_id: "UA-REN-1", name: "R", domains: ["a.example"] }))).status,
    ).toBe(201);
    // Crash after the actor stored the new domains, before the registry re-indexed them.
    await env.PROPERTY_DO.getByName("UA-REN-1").update({ domains: ["b.example"] });
    expect(await registry.propertiesForHost("b.example")).toEqual([]);

    const res = await call("/api/v1/properties/UA-REN-1", json({ domains: ["b.example"] }, "PATCH"));
    expect(res.status).toBe(200);
    expect(await registry.propertiesForHost("b.example")).toEqual(["UA-REN-1"]);
    expect(await registry.propertiesForHost("a.example")).toEqual([]);
  });

  it("re-indexes a property whose index fell behind when an admin reads it", async () => {
    expect(
      (await call("/api/v1/properties", json({ property_id: "UA-REN-2", name: "R", domains: ["c.example"] }))).status,
    ).toBe(201);
    await env.PROPERTY_DO.getByName("UA-REN-2").update({ name: "Renamed", domains: ["d.example"] });
    expect((await call("/api/v1/properties/UA-REN-2", { headers: ADMIN })).status).toBe(200);
    expect(await registry.entry("UA-REN-2")).toMatchObject({ name: "Renamed", domains: ["d.example"] });
    expect(await registry.propertiesForHost("d.example")).toEqual(["UA-REN-2"]);
    expect(await registry.propertiesForHost("c.example")).toEqual([]);
  });
});
