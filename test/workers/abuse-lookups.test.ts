/**
 * Lookups without credentials in workerd: Plausible's `d` fan-out is capped, and the actor lookups
 * that made-up domains, origins and property ids cause are limited per address (LOOKUP_RATE_LIMITER,
 * 120 a minute) and answered from negative caches, so a flood of names is not a flood of actor calls.
 * Each test speaks from its own address, so their budgets do not mix.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { call, createProperty, envelope } from "./helpers.ts";

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
/** The limiter's budget, twice: a test may straddle one of its 60 s windows. */
const AT_MOST_LOOKUPS = 2 * 120;

const randomName = () => crypto.randomUUID().slice(0, 13);

function plausible(d: string, address?: string) {
  return call("/api/event", {
    method: "POST",
    body: JSON.stringify({ n: "pageview", u: "https://abuse-lookups.example/", d }),
    headers: { "User-Agent": UA, "Content-Type": "text/plain", ...(address ? { "CF-Connecting-IP": address } : {}) },
  });
}

/** Counts the registry's "which property lists this host?" calls (not the daily salt, not refusal counts). */
function watchRegistry(): { readonly calls: number } {
  const seen = { calls: 0 };
  const getByName = env.REGISTRY_DO.getByName.bind(env.REGISTRY_DO);
  // The stub must be made in the request that uses it, so the spy wraps each one as it is made.
  vi.spyOn(env.REGISTRY_DO, "getByName").mockImplementation((name) => {
    const stub = getByName(name);
    return new Proxy(stub, {
      get(target, property) {
        if (property !== "propertiesForHost") return Reflect.get(target, property);
        return (host: string) => {
          seen.calls++;
          return target.propertiesForHost(host);
        };
      },
    });
  });
  return seen;
}

beforeAll(async () => {
  await createProperty({ property_id: "ABUSE-LOOKUP-1", domains: ["abuse-lookups.example"] });
});
afterEach(() => vi.restoreAllMocks());

describe("Plausible's d", () => {
  it("answers 400 naming d when a hit names more than 10 sites, before any lookup", async () => {
    const hosts = watchRegistry();
    const d = Array.from({ length: 11 }, (_, i) => `site${i}.example`).join(",");
    const res = await plausible(d, "192.0.2.10");
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toMatch(/^d: names 11 sites; at most 10/);
    expect(hosts.calls).toBe(0);
  });

  it("accepts 10 sites, repeats counted once, and records the hit for the one that exists", async () => {
    const d = ["abuse-lookups.example", ...Array.from({ length: 9 }, (_, i) => `none${i}.example`)];
    expect((await plausible([...d, ...d].join(","), "192.0.2.11")).status).toBe(202);
  });

  it("bounds the registry lookups one address's made-up domains cause, then answers 429", async () => {
    const hosts = watchRegistry();
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) {
      const d = Array.from({ length: 10 }, () => `${randomName()}.example`).join(",");
      seen.push((await plausible(d, "192.0.2.12")).status);
    }
    expect(seen[0]).toBe(404);
    expect(seen).toContain(429);
    expect(hosts.calls).toBeLessThanOrEqual(AT_MOST_LOOKUPS);
    // Another address still reaches a real site.
    expect((await plausible("abuse-lookups.example", "192.0.2.13")).status).toBe(202);
  }, 30_000);

  it("asks the registry once for an unknown domain however many addresses name it", async () => {
    const hosts = watchRegistry();
    for (let i = 0; i < 50; i++) expect((await plausible("gone.example", `192.0.2.${100 + i}`)).status).toBe(404);
    expect(hosts.calls).toBe(1);
  });

  it("looks up nothing for a domain that cannot be a host name", async () => {
    const hosts = watchRegistry();
    expect((await plausible("not a host!,<script>", "192.0.2.14")).status).toBe(404);
    expect(hosts.calls).toBe(0);
  });
});

describe("CORS preflights", () => {
  const preflight = (origin: string, address: string) =>
    call("/collect", {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "CF-Connecting-IP": address },
    });

  it("bounds the registry lookups of one address's random origins, then answers 429", async () => {
    const hosts = watchRegistry();
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) seen.push((await preflight(`https://${randomName()}.example`, "192.0.2.20")).status);
    expect(seen[0]).toBe(403);
    expect(seen).toContain(429);
    expect(hosts.calls).toBeLessThanOrEqual(AT_MOST_LOOKUPS);
    const known = await preflight("https://abuse-lookups.example", "192.0.2.21");
    expect(known.status).toBe(204);
    expect(known.headers.get("access-control-allow-origin")).toBe("https://abuse-lookups.example");
  }, 30_000);
});

describe("unknown property ids", () => {
  const collect = (propertyId: string, address: string) =>
    call("/collect", {
      method: "POST",
      body: JSON.stringify({ property_id: propertyId, event_type: "pageview", page_url: "https://x.example/" }),
      headers: { "User-Agent": UA, "Content-Type": "application/json", "CF-Connecting-IP": address },
    });

  it("bounds the PropertyDO lookups one address's made-up ids cause, then answers 429", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) seen.push((await collect(`X-${randomName()}`, "192.0.2.30")).status);
    expect(seen[0]).toBe(404);
    expect(seen).toContain(429);
    expect(lookups.mock.calls.filter(([id]) => id.startsWith("X-")).length).toBeLessThanOrEqual(AT_MOST_LOOKUPS);
    expect((await collect("ABUSE-LOOKUP-1", "192.0.2.31")).status).toBe(202);
  }, 30_000);

  it("asks the PropertyDO once for an unknown id however many addresses name it", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    for (let i = 0; i < 50; i++) expect((await collect("X-GONE-1", `192.0.2.${150 + i}`)).status).toBe(404);
    // The queue consumer may call the real property meanwhile; only the unknown id counts.
    expect(lookups.mock.calls.filter(([id]) => id === "X-GONE-1")).toHaveLength(1);
  });

  it("takes another isolate's negative answer from the shared cache, with no PropertyDO call", async () => {
    // What an isolate writes after a miss (platform/properties.ts), as another isolate would have.
    const headers = { "Cache-Control": "max-age=10" };
    await caches.default.put("https://negative.tally.internal/property/X-SHARED-1", new Response("", { headers }));
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    expect((await collect("X-SHARED-1", "192.0.2.40")).status).toBe(404);
    expect(lookups.mock.calls.filter(([id]) => id === "X-SHARED-1")).toHaveLength(0);
  });
});

describe("negative answers and new properties", () => {
  it("sees a property created right after its id and domain were refused, in the isolate that made it", async () => {
    const hit = () =>
      call("/collect", {
        method: "POST",
        body: JSON.stringify({ property_id: "LATE-1", event_type: "pageview", page_url: "https://late.example/" }),
        headers: { "User-Agent": UA, "Content-Type": "application/json", "CF-Connecting-IP": "192.0.2.50" },
      });
    expect((await hit()).status).toBe(404);
    expect((await plausible("late.example", "192.0.2.50")).status).toBe(404);
    await createProperty({ property_id: "LATE-1", domains: ["late.example"] });
    expect((await hit()).status).toBe(202);
    expect((await plausible("late.example", "192.0.2.50")).status).toBe(202);
  });
});
