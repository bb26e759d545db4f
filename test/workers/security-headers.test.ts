/**
 * Protective headers (workers/security-headers.ts) on every family of the Worker's answers — API
 * JSON, its errors and 404s, /collect and its preflight, the tracker script and its 304, /health, a
 * misconfiguration's 500 — while the cross-origin headers other sites depend on stay exactly as the
 * routes set them.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../workers/app.ts";
import { API_SECURITY_HEADERS, securityHeaders } from "../../workers/security-headers.ts";
import { TRACKER_ETAG } from "../../workers/tracker/route.ts";
import { ADMIN, type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

const PROPERTY = "UA-HEADERS-1";
const ORIGIN = "https://shop.headers.example";
let property: CreatedProperty;

function expectProtected(res: Response, what: string): void {
  expect(res.headers.get("x-content-type-options"), what).toBe("nosniff");
  expect(res.headers.get("referrer-policy"), what).toBe("no-referrer");
  expect(res.headers.get("x-frame-options"), what).toBe("DENY");
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).toContain("frame-ancestors 'none'");
}

beforeAll(async () => {
  property = await createProperty({ property_id: PROPERTY, domains: ["headers.example"] });
});

describe("protective headers on the Worker's answers", () => {
  it("lists exactly the four headers the tests below look for", () => {
    expect(Object.keys(API_SECURITY_HEADERS).sort()).toEqual([
      "Content-Security-Policy",
      "Referrer-Policy",
      "X-Content-Type-Options",
      "X-Frame-Options",
    ]);
  });

  it("carries them on /health, API JSON, an auth error, an unknown route and a bad request", async () => {
    const answers = {
      health: await call("/health"),
      list: await call("/api/v1/properties", { headers: ADMIN }),
      unauthorized: await call("/api/v1/properties"),
      notFound: await call("/api/v1/nothing-here"),
      badRequest: await call("/api/v1/realtime"),
    };
    expect(answers.health.status).toBe(200);
    expect(answers.list.status).toBe(200);
    expect(answers.unauthorized.status).toBe(401);
    expect(answers.notFound.status).toBe(404);
    expect((await envelope(answers.notFound)).error.code).toBe("not_found");
    expect(answers.badRequest.status).toBe(400);
    for (const [what, res] of Object.entries(answers)) expectProtected(res, what);
  });

  it("carries them on /collect and its preflight, with CORS for a property's origin as before", async () => {
    const preflight = await call("/collect", {
      method: "OPTIONS",
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
    expectProtected(preflight, "preflight");

    const accepted = await call("/collect", {
      method: "POST",
      headers: { Origin: ORIGIN, "Content-Type": "text/plain" },
      body: JSON.stringify({
        property_id: PROPERTY,
        client_id: "c1",
        event_type: "pageview",
        page_url: `${ORIGIN}/`,
      }),
    });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(accepted.headers.get("vary")).toContain("Origin");
    expectProtected(accepted, "collect 202");

    const refused = await call("/collect", { method: "POST", headers: { Origin: ORIGIN }, body: "{" });
    expect(refused.status).toBe(400);
    expectProtected(refused, "collect 400");
  });

  it("carries them on /t.js (200 and 304) and /t.js.sri while other sites may still load the script", async () => {
    const script = await call("/t.js");
    const notModified = await call("/t.js", { headers: { "If-None-Match": TRACKER_ETAG } });
    const sri = await call("/t.js.sri");
    expect(script.status).toBe(200);
    expect(notModified.status).toBe(304);
    expect(sri.status).toBe(200);
    for (const res of [script, notModified]) {
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    }
    expect(script.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    expect(sri.headers.get("access-control-allow-origin")).toBe("*");
    expectProtected(script, "t.js");
    expectProtected(notModified, "t.js 304");
    expectProtected(sri, "t.js.sri");
  });

  it("carries them on a WebSocket token answer and its refusal", async () => {
    const ok = await call(`/api/v1/realtime/token?property=${PROPERTY}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${property.api_key}` },
    });
    expect(ok.status).toBe(201);
    expectProtected(ok, "token");
    const refused = await call(`/ws/realtime?property=${PROPERTY}&token=a.1.b`, { headers: { Upgrade: "websocket" } });
    expect(refused.status).toBe(401);
    expectProtected(refused, "socket refusal");
  });

  it("carries them on a misconfiguration's 500", async () => {
    const ctx = createExecutionContext();
    const res = await app.fetch(
      new Request("http://tally.test/api/v1/properties", { headers: ADMIN }),
      { ...env, ADMIN_TOKEN: "too-short" },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(500);
    expect((await envelope(res)).error.code).toBe("misconfigured");
    expectProtected(res, "misconfigured");
  });

  it("keeps a header the route set itself, and copies a response whose headers are immutable", async () => {
    const own = new Hono();
    own.use(securityHeaders());
    own.get("/own", (c) => c.text("x", 200, { "Referrer-Policy": "origin" }));
    // Response.redirect's headers are immutable, as those of a response fetched from an actor are.
    own.get("/immutable", () => Response.redirect("https://elsewhere.example/", 302));
    const res = await own.request("/own");
    expect(res.headers.get("referrer-policy")).toBe("origin");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    const moved = await own.request("/immutable");
    expect(moved.status).toBe(302);
    expect(moved.headers.get("location")).toBe("https://elsewhere.example/");
    expectProtected(moved, "immutable");
  });
});
