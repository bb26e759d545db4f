/**
 * The OpenAPI document (core/openapi.ts) against the Worker that serves it: every route the app
 * mounts is documented and every documented operation is served, and what the routes of #17 answer
 * — 202 and 410 of a deletion, erasures, 413, 429 with Retry-After, 400s of the collect endpoints,
 * preflights — is a status the document lists for that operation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../workers/app.ts";
import { ADMIN, type CreatedProperty, call, createProperty } from "./helpers.ts";

interface Operation {
  responses: Record<string, { headers?: Record<string, unknown> }>;
}
type PathItem = Record<string, Operation | unknown>;
interface OpenApiDoc {
  paths: Record<string, PathItem>;
}

const METHODS = ["get", "post", "put", "patch", "delete", "options"];
/** Served but not part of the API: liveness and the tracker script, and the document itself. */
const UNDOCUMENTED = new Set(["GET /health", "GET /t.js", "GET /t.js.sri", "GET /api/v1/openapi.json"]);

/** `/a/:id` and `/a/{property_id}` both as `/a/{}`: parameter names differ between Hono and the document. */
const shape = (path: string) => path.replace(/:[^/]+|\{[^}]+\}/g, "{}");

let doc: OpenApiDoc;
let property: CreatedProperty;

beforeAll(async () => {
  doc = await (await call("/api/v1/openapi.json")).json<OpenApiDoc>();
  property = await createProperty({ property_id: "UA-OPENAPI-1", domains: ["openapi.example"] });
});

function operation(template: string, method: string): Operation {
  const op = doc.paths[template]?.[method] as Operation | undefined;
  if (!op) throw new Error(`${method.toUpperCase()} ${template} is not documented`);
  return op;
}

/** Asserts the answer's status is documented for the operation, with Retry-After where it is promised. */
function expectDocumented(res: Response, template: string, method: string): void {
  const answer = operation(template, method).responses[String(res.status)];
  expect(answer, `${method.toUpperCase()} ${template} answered ${res.status}, which is not documented`).toBeDefined();
  if (answer?.headers?.["Retry-After"] !== undefined && (res.status === 429 || res.status === 503))
    expect(res.headers.get("retry-after"), `${template} ${res.status}`).toMatch(/^\d+$/);
}

describe("the document and the routes", () => {
  it("documents every route the Worker serves, and serves every documented operation", () => {
    const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${shape(r.path)}`));
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, item]) =>
        METHODS.filter((m) => m !== "options" && m in item).map((m) => `${m.toUpperCase()} ${shape(path)}`),
      ),
    );
    expect(served.size, "the app's routes were read").toBeGreaterThan(30);
    const missing = [...served].filter((r) => !documented.has(r) && !UNDOCUMENTED.has(r));
    const phantom = [...documented].filter((r) => !served.has(r));
    expect(missing, "served but not in the OpenAPI document").toEqual([]);
    expect(phantom, "documented but not served").toEqual([]);
  });

  it("declares every path parameter of every path", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const wanted = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = ((item.parameters ?? []) as { name: string; in: string }[])
        .filter((p) => p.in === "path")
        .map((p) => p.name);
      expect(declared, path).toEqual(wanted);
    }
  });
});

describe("answers are documented", () => {
  it("a visitor erasure: 401 without a key, 202 with one, then its status and the audit", async () => {
    const template = "/api/v1/properties/{id}/visitors/{visitor}";
    const path = `/api/v1/properties/${property.property_id}/visitors/visitor-1`;
    expectDocumented(await call(path, { method: "DELETE" }), template, "delete");
    const accepted = await call(path, { method: "DELETE", headers: { Authorization: `Bearer ${property.api_key}` } });
    expect(accepted.status).toBe(202);
    expectDocumented(accepted, template, "delete");
    const { status_url } = await accepted.json<{ status_url: string }>();
    expectDocumented(
      await call(status_url, { headers: ADMIN }),
      "/api/v1/properties/{id}/erasures/{erasure_id}",
      "get",
    );
    const audit = await call(`/api/v1/properties/${property.property_id}/erasures`, { headers: ADMIN });
    expectDocumented(audit, "/api/v1/properties/{id}/erasures", "get");
    const tooLong = await call(`/api/v1/properties/${property.property_id}/visitors/${"v".repeat(257)}/export`, {
      headers: ADMIN,
    });
    expect(tooLong.status).toBe(400);
    expectDocumented(tooLong, "/api/v1/properties/{id}/visitors/{visitor}/export", "get");
  });

  it("deleting a property: 202, then 410 on read and 409 on create", async () => {
    const doomed = await createProperty({ property_id: "UA-OPENAPI-GONE", domains: ["gone.openapi.example"] });
    const path = `/api/v1/properties/${doomed.property_id}`;
    const deleted = await call(path, { method: "DELETE", headers: ADMIN });
    expect(deleted.status).toBe(202);
    expectDocumented(deleted, "/api/v1/properties/{id}", "delete");
    const read = await call(path, { headers: ADMIN });
    expect(read.status).toBe(410);
    expectDocumented(read, "/api/v1/properties/{id}", "get");
    const again = await call("/api/v1/properties", {
      method: "POST",
      headers: { ...ADMIN, "Content-Type": "application/json" },
      body: JSON.stringify({ property_id: doomed.property_id, name: "again", domains: ["gone.openapi.example"] }),
    });
    expect(again.status).toBe(409);
    expectDocumented(again, "/api/v1/properties", "post");
    expectDocumented(await call("/api/v1/properties", { headers: ADMIN }), "/api/v1/properties", "get");
  });

  it("a query body over 64 KB is a 413, a bots audit without a key a 401", async () => {
    const big = await call("/api/v1/query", {
      method: "POST",
      headers: { Authorization: `Bearer ${property.api_key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ property_id: property.property_id, metrics: ["visitors"], pad: "x".repeat(70_000) }),
    });
    expect(big.status).toBe(413);
    expectDocumented(big, "/api/v1/query", "post");
    const bots = await call(`/api/v1/bots?property=${property.property_id}`);
    expect(bots.status).toBe(401);
    expectDocumented(bots, "/api/v1/bots", "get");
  });

  it("the collect endpoints' 400s: Plausible's d naming 11 sites, a malformed measurement_id", async () => {
    const sites = Array.from({ length: 11 }, (_, i) => `s${i}.openapi.example`).join(",");
    const plausible = await call("/api/event", {
      method: "POST",
      headers: { "User-Agent": "Mozilla/5.0 Chrome/131.0", "Content-Type": "application/json" },
      body: JSON.stringify({ n: "pageview", u: "https://openapi.example/", d: sites }),
    });
    expect(plausible.status).toBe(400);
    expectDocumented(plausible, "/api/event", "post");
    const mp = await call("/mp/collect?measurement_id=!!&api_secret=x", { method: "POST", body: "{}" });
    expect(mp.status).toBe(400);
    expectDocumented(mp, "/mp/collect", "post");
  });

  it("preflights: 204 for a property's origin, 403 for another", async () => {
    for (const [origin, status] of [
      ["https://openapi.example", 204],
      ["https://nobody.openapi-unknown.example", 403],
    ] as const) {
      const res = await call("/collect", {
        method: "OPTIONS",
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
      expect(res.status).toBe(status);
      expectDocumented(res, "/collect", "options");
    }
  });

  it("an address past 30 failed authentications gets 429 with Retry-After on credentialed routes", async () => {
    const from = { "CF-Connecting-IP": "203.0.113.77" };
    const wrongKey = { ...from, Authorization: `Bearer tk_00000000_${"A".repeat(43)}` };
    let last: Response | undefined;
    // Up to two of the limiter's 60 s windows: the run may straddle one (as in abuse-auth.test.ts).
    for (let i = 0; i < 120 && last?.status !== 429; i++)
      last = await call(`/api/v1/realtime?property=${property.property_id}`, { headers: wrongKey });
    expect(last?.status).toBe(429);
    if (last) expectDocumented(last, "/api/v1/realtime", "get");
    const blocked = await call(`/api/v1/properties/${property.property_id}/erasures`, {
      headers: { ...from, Authorization: `Bearer ${property.api_key}` },
    });
    expect(blocked.status).toBe(429);
    expectDocumented(blocked, "/api/v1/properties/{id}/erasures", "get");
  });
});
