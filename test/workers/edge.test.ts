/**
 * The collect edge's property rules in workerd: unknown and disabled properties (404), foreign
 * origins (403) and CORS, DNT, cookieless visitor ids, IP privacy, geography, rate limits and
 * the refusal counters.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { IP_TOKEN_EVENTS, PROPERTY_TOKEN_EVENTS } from "../../core/ingest/rate-limits.ts";
import { TEST_RATE_LIMITS } from "../support/admin.ts";
import { ADMIN, call, createProperty, envelope, sentMessage } from "./helpers.ts";

const CHROME =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const event = (property_id: string, extra: Record<string, unknown> = {}) => ({
  property_id,
  client_id: "c1",
  event_type: "pageview",
  page_url: "https://example.com/",
  ...extra,
});

function post(body: unknown, headers: Record<string, string> = {}, cf?: Record<string, unknown>): Promise<Response> {
  return call("/collect", {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "User-Agent": CHROME, ...headers },
    cf,
  });
}

function watchQueue() {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  return () => send.mock.calls.flatMap(([batch]) => [...batch].flatMap((m) => sentMessage(m).events));
}

beforeAll(async () => {
  await createProperty({ property_id: "UA-EDGE-1", domains: ["example.com"] });
  await createProperty({ property_id: "UA-OFF-1", domains: ["example.com"] });
  await call("/api/v1/properties/UA-OFF-1", {
    method: "PATCH",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ disabled: true }),
  });
  await createProperty({
    property_id: "UA-PRIVATE-1",
    domains: ["example.com"],
    privacy: { ip_mode: "none", cookieless_only: true, respect_dnt: true },
  });
});
afterEach(() => vi.restoreAllMocks());

describe("properties at the edge", () => {
  it.each(["UA-MISSING-1", "UA-OFF-1"])("answers 404 for %s (unknown or disabled)", async (id) => {
    const res = await post(event(id));
    expect(res.status).toBe(404);
    expect((await envelope(res)).error).toMatchObject({
      code: "property_not_found",
      message: expect.stringContaining(id),
    });
  });

  it.each([
    ["https://example.com", 202],
    ["https://shop.example.com:8443", 202],
    ["https://evil.test", 403],
  ])("judges Origin %s → %i", async (origin, status) => {
    const res = await post(event("UA-EDGE-1"), { Origin: origin });
    expect(res.status).toBe(status);
    if (status === 202) expect(res.headers.get("access-control-allow-origin")).toBe(origin);
    else expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("accepts server-side requests without an Origin", async () => {
    expect((await post(event("UA-EDGE-1"))).status).toBe(202);
  });

  it("counts refusals where the property's admin can see them", async () => {
    await post(event("UA-EDGE-1"), { Origin: "https://evil.test" });
    await vi.waitFor(async () => {
      const res = await call("/api/v1/properties/UA-EDGE-1", { headers: ADMIN });
      const body = await res.json<{ refusals: Record<string, number> }>();
      expect(body.refusals.origin_not_allowed).toBeGreaterThanOrEqual(1);
    });
    await post(event("UA-MISSING-2"));
    await vi.waitFor(async () =>
      expect((await env.REGISTRY_DO.getByName("global").refusals()).unknown_property).toBeGreaterThanOrEqual(1),
    );
  });

  it("answers CORS preflights only for origins some property lists", async () => {
    const ok = await call("/collect", {
      method: "OPTIONS",
      headers: { Origin: "https://www.example.com", "Access-Control-Request-Method": "POST" },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://www.example.com");
    expect(ok.headers.get("access-control-allow-headers")).toContain("Content-Type");
    const no = await call("/collect", { method: "OPTIONS", headers: { Origin: "https://evil.test" } });
    expect(no.status).toBe(403);
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("privacy", () => {
  it("derives the same cookieless id for the same visitor and never queues the raw IP", async () => {
    const sent = watchQueue();
    const headers = { "CF-Connecting-IP": "198.51.100.23" };
    const { client_id: _, ...anonymous } = event("UA-EDGE-1");
    await post(anonymous, headers);
    await post(anonymous, headers);
    await post(anonymous, { "CF-Connecting-IP": "198.51.100.24" });
    const [a, b, c] = sent();
    expect(a?.client_id).toMatch(/^cl_[0-9a-f]{32}$/);
    expect(a?.visitor_id_source).toBe("cookieless");
    expect(b?.client_id).toBe(a?.client_id);
    expect(c?.client_id).not.toBe(a?.client_id);
    expect(a?.ip_prefix).toBe("198.51.100.0");
    expect(JSON.stringify(sent())).not.toContain("198.51.100.23");
  });

  it("keeps no IP and ignores client ids for a cookieless-only property", async () => {
    const sent = watchQueue();
    await post(event("UA-PRIVATE-1", { client_id: "tracker-id" }), { "CF-Connecting-IP": "198.51.100.23" });
    const [e] = sent();
    expect(e).toMatchObject({ ip_prefix: "", visitor_id_source: "cookieless" });
    expect(e?.client_id).not.toBe("tracker-id");
  });

  it.each<Record<string, string>>([{ DNT: "1" }, { "Sec-GPC": "1" }])(
    "honours %j for a property that respects it, queueing nothing",
    async (header) => {
      const sent = watchQueue();
      const res = await post(event("UA-PRIVATE-1"), header);
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ status: "accepted", not_tracked: 1 });
      expect(sent()).toEqual([]);
      expect((await post(event("UA-EDGE-1"), header)).status).toBe(202);
    },
  );
});

describe("geography and bots", () => {
  it("takes geography from request.cf, never from the body", async () => {
    const sent = watchQueue();
    const cf = {
      country: "DE",
      region: "Berlin",
      city: "Berlin",
      continent: "EU",
      timezone: "Europe/Berlin",
      asn: 3320,
    };
    await post(event("UA-EDGE-1"), {}, cf);
    expect(sent()[0]).toMatchObject({
      country: "DE",
      region: "Berlin",
      city: "Berlin",
      continent: "EU",
      geo_timezone: "Europe/Berlin",
      asn: 3320,
      is_bot: false,
    });
    const res = await post(event("UA-EDGE-1", { country: "FR" }));
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toBe("events[0].country: is not a known field");
  });

  it("flags, but keeps, hits from crawlers and datacenters, with the reason", async () => {
    const sent = watchQueue();
    await post(event("UA-EDGE-1"), {
      "User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    });
    await post(event("UA-EDGE-1"), {}, { asn: 16509, country: "US" });
    await post(event("UA-EDGE-1"), {}, { botManagement: { score: 1 } });
    expect(sent().map((e) => [e.is_bot, e.bot_reason, e.device_type])).toEqual([
      [true, "ua_crawler", "bot"],
      [true, "datacenter_asn", "bot"],
      [true, "cf_bot_management", "bot"],
    ]);
  });
});

describe("velocity", () => {
  it("flags a visitor sending more than 120 events in a minute, from the 121st on", async () => {
    await createProperty({ property_id: "UA-FAST-1", domains: ["example.com"] });
    const sent = watchQueue();
    const batch = Array.from({ length: 20 }, () => event("UA-FAST-1", { client_id: "speedy" }));
    for (let i = 0; i < 7; i++) expect((await post(batch)).status).toBe(202);
    const reasons = sent().map((e) => e.bot_reason);
    expect(reasons.slice(0, 120).every((r) => r === "")).toBe(true);
    expect(reasons.slice(120)).toEqual(Array(20).fill("velocity"));
  });
});

describe("rate limits (scaled down in tests; production: 10K/min per IP, 200K/min per property)", () => {
  /** Sends 20-event batches until refused; returns how many events were accepted first. */
  async function acceptedBefore429(
    property: string,
    headersFor: (i: number) => Record<string, string>,
  ): Promise<[number, Response]> {
    const batch = Array.from({ length: 20 }, () => event(property));
    for (let i = 0, accepted = 0; i < 100; i++, accepted += 20) {
      const res = await post(batch, headersFor(i));
      if (res.status === 429) return [accepted, res];
      expect(res.status).toBe(202);
    }
    throw new Error("never rate limited");
  }

  it("answers 429 with Retry-After once an IP has sent its budget of events", async () => {
    const [accepted, res] = await acceptedBefore429("UA-EDGE-1", () => ({ "CF-Connecting-IP": "192.0.2.200" }));
    // Tokens are drawn per IP_TOKEN_EVENTS events, so the cut comes within one token of the budget.
    expect(accepted).toBeGreaterThanOrEqual(TEST_RATE_LIMITS.ip);
    expect(accepted).toBeLessThanOrEqual(TEST_RATE_LIMITS.ip + IP_TOKEN_EVENTS);
    expect(res.headers.get("retry-after")).toBe("60");
    expect((await envelope(res)).error).toMatchObject({
      code: "rate_limited",
      message: expect.stringContaining("IP address"),
    });
    expect((await post(event("UA-EDGE-1"), { "CF-Connecting-IP": "192.0.2.201" })).status).toBe(202);
  });

  it("answers 429 once a property has received its budget of events, from any IP", async () => {
    await createProperty({ property_id: "UA-BUSY-1", domains: ["example.com"] });
    const [accepted, res] = await acceptedBefore429("UA-BUSY-1", (i) => ({ "CF-Connecting-IP": `192.0.2.${i}` }));
    expect(accepted).toBeGreaterThanOrEqual(TEST_RATE_LIMITS.property);
    expect(accepted).toBeLessThanOrEqual(TEST_RATE_LIMITS.property + PROPERTY_TOKEN_EVENTS);
    expect((await envelope(res)).error.message).toContain("UA-BUSY-1");
  });
});
