/**
 * Tenant isolation, route by route (the table in test/support/fuzz-routes.ts): every route that
 * acts on one property refuses another property's key with 403 and a missing one with 401, and
 * lets the property's own key in; admin routes let no property key in. The query cache, on the
 * Cache API and on Upstash, answers two properties' identical questions each with its own data.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { app } from "../../workers/app.ts";
import worker from "../../workers/main.ts";
import { type BaseRequest, needsOf, PROPERTY_ROUTES, ROUTES, type Route, type Tenant } from "../support/fuzz-routes.ts";
import { consumeMessage, createProperty, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
let a: Tenant;
let b: Tenant;
let n = 0;

beforeAll(async () => {
  a = await createProperty({ property_id: `ISO-${run}-A`, domains: [`a-${run}.iso.example`] });
  b = await createProperty({ property_id: `ISO-${run}-B`, domains: [`b-${run}.iso.example`] });
});

type Credential = "none" | "own" | "other";

/** The route's valid request about A, with A's key, B's key or none (the MP secret likewise). */
function request(route: Route, credential: Credential): Request {
  const base: BaseRequest = route.valid(a);
  const query = { ...base.query };
  const headers: Record<string, string> = {
    ...base.headers,
    // Each request from its own address: auth-failure limits per address must not decide this matrix.
    "CF-Connecting-IP": `198.18.${Math.floor(++n / 250)}.${n % 250}`,
  };
  const owner = credential === "own" ? a : b;
  if (route.access === "mp-secret") {
    if (credential === "none") delete query.api_secret;
    else query.api_secret = owner.mp_api_secret;
  } else if (credential !== "none") headers.Authorization = `Bearer ${owner.api_key}`;
  const search = Object.keys(query).length > 0 ? `?${new URLSearchParams(query)}` : "";
  const body =
    base.body === undefined ? undefined : typeof base.body === "string" ? base.body : JSON.stringify(base.body);
  return new Request(`http://tally.test${base.path}${search}`, { method: route.method, headers, body });
}

async function send(route: Route, credential: Credential): Promise<{ status: number; code?: string }> {
  const res = await exports.default.fetch(request(route, credential));
  const ws = (res as Response & { webSocket?: WebSocket | null }).webSocket;
  if (ws) {
    ws.accept();
    ws.close(1000, "isolation matrix");
    return { status: res.status };
  }
  const text = await res.text();
  if (res.status < 400) return { status: res.status };
  return { status: res.status, code: (JSON.parse(text) as { error: { code: string } }).error.code };
}

describe("every route that acts on a property", () => {
  it("is in the table: every route the app mounts has its line in test/support/fuzz-routes.ts", () => {
    const mounted = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
    const listed = new Set(ROUTES.map((r) => r.name.replace(/ \(.*\)$/, "")));
    expect([...mounted].filter((name) => !listed.has(name))).toEqual([]);
    expect([...listed].filter((name) => !mounted.has(name))).toEqual([]);
  });

  for (const route of PROPERTY_ROUTES) {
    it(`${route.name}: another property's ${route.access === "mp-secret" ? "MP secret" : "key"} → 403`, async () => {
      expect(await send(route, "other")).toEqual({ status: 403, code: "forbidden" });
    });

    it(`${route.name}: no credential → ${route.access === "mp-secret" ? "400 naming api_secret" : "401"}`, async () => {
      const answer = await send(route, "none");
      if (route.access === "mp-secret") expect(answer).toEqual({ status: 400, code: "invalid_request" });
      else expect(answer).toEqual({ status: 401, code: "unauthorized" });
    });

    // Keys never hand out access or delete (core/team/roles.ts): those routes are people's only.
    const keysMay = !["people", "own"].includes(needsOf(route));
    it(`${route.name}: the property's own credential is ${keysMay ? "let in" : "refused (people's route)"}`, async () => {
      const { status } = await send(route, "own");
      if (keysMay) expect([401, 403]).not.toContain(status);
      else expect(status).toBe(403);
      expect(status).toBeLessThan(500);
    });
  }
});

describe("every admin route", () => {
  const adminRoutes = ROUTES.filter((r) => r.access === "admin");
  for (const route of adminRoutes) {
    it(`${route.name}: refuses a property's key, its own included (401 or 403, nothing done)`, async () => {
      for (const credential of ["own", "other"] as const) {
        const { status } = await send(route, credential);
        expect([401, 403], `${credential} key`).toContain(status);
      }
    });
  }
});

describe("the query cache", () => {
  // Properties of their own: the matrix above starts erasures on A, which move A's data version.
  let c: Tenant;
  let d: Tenant;
  const day = new Date(YESTERDAY_10H).toISOString().slice(0, 10);
  const spec = { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], date_range: [day, day] };

  beforeAll(async () => {
    c = await createProperty({ property_id: `ISO-${run}-C`, domains: [`c-${run}.iso.example`] });
    d = await createProperty({ property_id: `ISO-${run}-D`, domains: [`d-${run}.iso.example`] });
    const ev = (p: Tenant, id: string, client: string, page: string) =>
      makeEvent({
        property_id: p.property_id,
        event_id: `${run}-${id}`,
        client_id: `${run}-${client}`,
        event_timestamp: YESTERDAY_10H + Number(id.slice(1)) * 60_000,
        page_path: page,
        page_url: `https://${p.domains[0]}${page}`,
      });
    await consumeMessage(`${run}-c`, [
      ev(c, "c1", "alice", "/c-only"),
      ev(c, "c2", "bob", "/c-only"),
      ev(c, "c3", "carol", "/c-only"),
    ]);
    await consumeMessage(`${run}-d`, [ev(d, "d1", "dave", "/d-only")]);
  });

  /** Asks the same question of a property through the Worker with `targetEnv` (the store it configures). */
  async function ask(p: Tenant, targetEnv: Env, extra: Record<string, unknown> = {}) {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://tally.test/api/v1/query", {
        method: "POST",
        headers: { Authorization: `Bearer ${p.api_key}`, "Content-Type": "application/json" },
        body: JSON.stringify({ property_id: p.property_id, ...spec, ...extra }),
      }),
      targetEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(200);
    const body = await res.json<{
      results: { dimensions: string[]; metrics: number[] }[];
      meta: { cached: boolean; cache: string };
    }>();
    return { rows: body.results, cached: body.meta.cached, store: body.meta.cache };
  }

  const C_ROWS = [{ dimensions: ["/c-only"], metrics: [3, 3] }];
  const D_ROWS = [{ dimensions: ["/d-only"], metrics: [1, 1] }];
  const testEnv = env as typeof env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
  const stores: [string, () => Env][] = [
    ["cache-api", () => env],
    [
      "upstash",
      () =>
        Object.assign({}, env, {
          UPSTASH_REDIS_REST_URL: testEnv.TEST_UPSTASH_URL,
          UPSTASH_REDIS_REST_TOKEN: testEnv.TEST_UPSTASH_TOKEN,
        }),
    ],
  ];

  for (const [name, targetEnv] of stores) {
    it(`on ${name}: an identical question asked of C, then D, then both again, gets each its own answer`, async () => {
      const e = targetEnv();
      const limit = name === "upstash" ? 11 : 10;
      expect(await ask(c, e, { limit })).toEqual({ rows: C_ROWS, cached: false, store: name });
      expect(await ask(d, e, { limit })).toEqual({ rows: D_ROWS, cached: false, store: name });
      // The second round comes from the cache: each property its own entry.
      expect(await ask(c, e, { limit })).toEqual({ rows: C_ROWS, cached: true, store: name });
      expect(await ask(d, e, { limit })).toEqual({ rows: D_ROWS, cached: true, store: name });
    });
  }
});
