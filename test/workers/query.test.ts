/**
 * The query API in workerd: events through the real consumer (actors, then ClickHouse), then
 * /api/v1/query and /api/v1/reports — auth walked route by route with a foreign key, validation,
 * the live and ClickHouse sources, cache, CSV, the hourly quota and the warehouse's 501.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { QueryResponse } from "../../workers/query/run.ts";
import { ADMIN, type CreatedProperty, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
let a: CreatedProperty;
let b: CreatedProperty;
const HOUR = 3_600_000;
// Yesterday 10:00–13:00 UTC: what the date ranges below cover (today holds only the live event).
const base = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 14 * HOUR;
const day = new Date(base).toISOString().slice(0, 10);

const ev = (property: string, id: string, client: string, t: number, extra: Partial<Event> = {}) =>
  makeEvent({
    property_id: property,
    event_id: `${run}-${id}`,
    client_id: `${run}-${client}`,
    event_timestamp: t,
    ...extra,
  });

/** A report's body, as these tests read it (workers/query/reports.ts builds it). */
type ReportBody = Record<string, unknown> & {
  rows: Record<string, unknown>[];
  steps: { visitors: number }[];
  timeseries: unknown[];
  top_pages: unknown[];
  top_sources: unknown[];
  comparison: unknown;
  meta: unknown;
};
interface OpenApiDoc {
  openapi: string;
  components: { schemas: { QuerySpec: { properties: { metrics: { items: { enum: string[] } } } } } };
  paths: Record<string, { get: { parameters: { name: string }[] } }>;
}
const auth = (p: CreatedProperty) => ({ Authorization: `Bearer ${p.api_key}` });

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return call(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const query = (p: CreatedProperty, spec: Record<string, unknown>, headers: Record<string, string> = {}) =>
  post("/api/v1/query", { property_id: p.property_id, ...spec }, { ...auth(p), ...headers });

beforeAll(async () => {
  a = await createProperty({ property_id: `QA-${run}` });
  b = await createProperty({ property_id: `QB-${run}` });
  const A = a.property_id;
  await consumeMessage(`${run}-m1`, [
    ev(A, "1", "alice", base + 10 * 60_000, { page_path: "/", source: "Google", channel: "Organic Search" }),
    ev(A, "2", "alice", base + 12 * 60_000, { page_path: "/pricing" }),
    ev(A, "3", "bob", base + HOUR, { page_path: "/blog", device_type: "mobile" }),
    ev(A, "4", "carol", base + 2 * HOUR, { page_path: "/" }),
    ev(A, "5", "alice", base + 12 * 60_000 + 1000, { event_type: "signup" }),
    // Now: the live windows answer these.
    ev(A, "6", "dave", Date.now() - 60_000, { page_path: "/live" }),
  ]);
  await consumeMessage(`${run}-m2`, [ev(b.property_id, "b1", "alice", base + 10 * 60_000)]);
});

describe("POST and GET /api/v1/query", () => {
  it("answers the query language from ClickHouse, with the normalised query and meta", async () => {
    const res = await query(a, {
      metrics: ["visitors", "visits", "pageviews", "events", "bounce_rate"],
      date_range: [day, day],
      timezone: "UTC",
    });
    expect(res.status).toBe(200);
    const body = await res.json<{
      results: { metrics: number[] }[];
      meta: Record<string, unknown>;
      query: Record<string, unknown>;
    }>();
    // alice: 1 visit (3 events), bob: 1 bounce, carol: 1 bounce.
    expect(body.results).toEqual([{ dimensions: [], metrics: [3, 3, 4, 5, 0.6667] }]);
    expect(body.meta).toMatchObject({ source: "clickhouse", cached: false });
    expect(body.query).toMatchObject({ property_id: a.property_id, timezone: "UTC", limit: 100 });
  });

  it("GET ?q= gives the same answer, and the second time from the cache", async () => {
    const spec = {
      property_id: a.property_id,
      metrics: ["pageviews"],
      dimensions: ["event:page"],
      date_range: [day, day],
    };
    const first = await call(`/api/v1/query?q=${encodeURIComponent(JSON.stringify(spec))}`, { headers: auth(a) });
    const second = await call(`/api/v1/query?q=${encodeURIComponent(JSON.stringify(spec))}`, { headers: auth(a) });
    const [one, two] = [await first.json<QueryResponse>(), await second.json<QueryResponse>()];
    expect(one.results).toEqual([
      { dimensions: ["/"], metrics: [2] },
      { dimensions: ["/blog"], metrics: [1] },
      { dimensions: ["/pricing"], metrics: [1] },
    ]);
    expect(one.meta.cached).toBe(false);
    expect(two.meta.cached).toBe(true);
    expect(two.results).toEqual(one.results);
  });

  it("answers the last minutes from the property's actor", async () => {
    const res = await query(a, { metrics: ["visitors", "pageviews"], date_range: "realtime" });
    const body = await res.json<QueryResponse>();
    expect(body.meta.source).toBe("live");
    expect(body.results[0]?.metrics).toEqual([1, 1]);
  });

  it("exports CSV", async () => {
    const res = await query(
      a,
      { metrics: ["pageviews"], dimensions: ["event:page"], date_range: [day, day] },
      { Accept: "text/csv" },
    );
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(await res.text()).toBe("event:page,pageviews\r\n/,2\r\n/blog,1\r\n/pricing,1\r\n");
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ["an unknown metric", { metrics: ["hits"] }, /metrics\[0\]: "hits" is not a metric; allowed: visitors/],
    [
      "an unknown dimension",
      { metrics: ["visitors"], dimensions: ["visit:planet"] },
      /dimensions\[0\].*allowed: event:page/,
    ],
    [
      "a bad filter",
      { metrics: ["visitors"], filters: [["like", "event:page", ["/"]]] },
      /filters\[0\]\[0\]: "like" is not an operator/,
    ],
    [
      "a session metric by page",
      { metrics: ["bounce_rate"], dimensions: ["event:page"] },
      /bounce_rate .* cannot be broken down/,
    ],
  ])("400 for %s, naming the field", async (_, spec, message) => {
    const res = await query(a, spec);
    expect(res.status).toBe(400);
    const body = await envelope(res);
    expect(body.error.code).toBe("invalid_query");
    expect(body.error.message).toMatch(message);
  });

  it("400 for a body that is not JSON, and for a missing property_id", async () => {
    const res = await call("/api/v1/query", { method: "POST", headers: auth(a), body: "{nope" });
    expect((await envelope(res)).error.message).toBe("body: is not valid JSON");
    const missing = await post("/api/v1/query", { metrics: ["visitors"] }, auth(a));
    expect((await envelope(missing)).error.message).toBe("property_id: is required");
  });

  it("answers ranges beyond the hot retention, saying from where and why", async () => {
    const res = await query(a, { metrics: ["visitors"], date_range: ["2024-01-01", "2024-01-31"] });
    expect(res.status).toBe(200);
    const body = await res.json<{ results: unknown[]; meta: { source: string; plan: string } }>();
    // This file's warehouse has no frontier: ClickHouse, which has dropped nothing, answers (nothing then).
    expect(body.meta.plan).toMatch(/^the range starts more than 90 days ago/);
    expect(["clickhouse", "warehouse", "mixed"]).toContain(body.meta.source);
    expect(body.results).toEqual([{ dimensions: [], metrics: [0] }]);
  });
});

describe("reports", () => {
  const report = (name: string, extra = "") =>
    call(`/api/v1/reports?property=${a.property_id}&report=${name}&start=${day}&end=${day}&timezone=UTC${extra}`, {
      headers: auth(a),
    });

  it("overview: figures, a daily series, top lists and the previous period", async () => {
    const body = await (await report("overview")).json<ReportBody>();
    expect(body).toMatchObject({ visitors: 3, visits: 3, pageviews: 4, bounce_rate: 0.6667 });
    expect(body.timeseries).toEqual([{ date: day, visitors: 3, pageviews: 4, visits: 3 }]);
    expect(body.top_pages[0]).toEqual({ page: "/", visitors: 2, pageviews: 2 });
    expect(body.top_sources).toContainEqual(expect.objectContaining({ source: "Google", visitors: 1, visits: 1 }));
    expect(body.comparison, JSON.stringify(body.meta)).toMatchObject({ visitors: 0, pageviews: 0 });
  });

  it("breakdowns, funnel and retention; CSV", async () => {
    const pages = await (await report("pages")).json<ReportBody>();
    expect(pages.rows[0]).toEqual({ page: "/", visitors: 2, pageviews: 2 });
    const devices = await (await report("devices")).json<ReportBody>();
    expect(devices.rows).toContainEqual({ device: "mobile", visitors: 1, visits: 1, bounce_rate: 1 });
    const steps = encodeURIComponent(
      JSON.stringify([
        { kind: "page", value: "/" },
        { kind: "page", value: "/pricing" },
      ]),
    );
    const funnel = await (await report("funnel", `&steps=${steps}`)).json<ReportBody>();
    expect(funnel.steps.map((s) => s.visitors)).toEqual([2, 1]);
    const retention = await report("retention");
    expect(retention.status).toBe(200);
    const csv = await (await report("pages", "&format=csv")).text();
    expect(csv.split("\r\n")[0]).toBe("page,visitors,pageviews");
  });

  it("goals: conversion per goal", async () => {
    const add = await post(
      `/api/v1/properties/${a.property_id}/goals`,
      { name: "Signup", kind: "event", event_name: "signup" },
      auth(a),
    );
    expect(add.status).toBe(201);
    const body = await (await report("goals")).json<ReportBody>();
    expect(body.rows).toEqual([{ goal: "Signup", visitors: 1, events: 1, conversion_rate: 0.3333 }]);
  });

  it("400 for an unknown report, naming the allowed ones", async () => {
    const res = await report("nope");
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toMatch(/report: must be one of: overview, pages/);
  });
});

describe("auth and isolation: every route that reads a property", () => {
  const routes: [string, (p: string) => [string, RequestInit]][] = [
    [
      "POST /api/v1/query",
      (p) => ["/api/v1/query", { method: "POST", body: JSON.stringify({ property_id: p, metrics: ["visitors"] }) }],
    ],
    [
      "GET /api/v1/query",
      (p) => [`/api/v1/query?q=${encodeURIComponent(JSON.stringify({ property_id: p, metrics: ["visitors"] }))}`, {}],
    ],
    ["GET /api/v1/reports", (p) => [`/api/v1/reports?property=${p}&report=overview`, {}]],
    ["GET /api/v1/properties/:id/goals", (p) => [`/api/v1/properties/${p}/goals`, {}]],
    [
      "POST /api/v1/properties/:id/goals",
      (p) => [
        `/api/v1/properties/${p}/goals`,
        { method: "POST", body: JSON.stringify({ name: "x", kind: "event", event_name: "x" }) },
      ],
    ],
    ["DELETE /api/v1/properties/:id/goals/:name", (p) => [`/api/v1/properties/${p}/goals/x`, { method: "DELETE" }]],
    ["GET /api/v1/realtime", (p) => [`/api/v1/realtime?property=${p}`, {}]],
    ["POST /api/v1/realtime/token", (p) => [`/api/v1/realtime/token?property=${p}`, { method: "POST" }]],
    ["GET /api/v1/bots", (p) => [`/api/v1/bots?property=${p}`, {}]],
    ["POST /api/v1/import", (p) => [`/api/v1/import?property=${p}`, { method: "POST", body: "{}" }]],
  ];
  it.each(routes)("%s: 401 without a key, 403 with another property's key", async (_, route) => {
    const [path, init] = route(a.property_id);
    const none = await call(path, init);
    expect(none.status).toBe(401);
    const foreign = await call(path, { ...init, headers: auth(b) });
    expect(foreign.status).toBe(403);
    expect((await envelope(foreign)).error.code).toBe("forbidden");
  });

  it("the admin token reads any property; one property's cached answer never reaches another", async () => {
    const spec = { metrics: ["visitors"], date_range: [day, day] };
    const asA = await (await query(a, spec)).json<QueryResponse>();
    const asB = await (await query(b, spec)).json<QueryResponse>();
    const admin = await (
      await post("/api/v1/query", { property_id: b.property_id, ...spec }, ADMIN)
    ).json<QueryResponse>();
    expect(asA.results[0]?.metrics).toEqual([3]);
    expect(asB.results[0]?.metrics).toEqual([1]);
    expect(admin.results[0]?.metrics).toEqual([1]);
  });
});

it("429 with Retry-After once a property has used its hourly quota", async () => {
  const c = await createProperty({ property_id: `QC-${run}` });
  const stub = env.PROPERTY_DO.getByName(c.property_id);
  for (let i = 0; i < 1000; i++) await stub.chargeQuery(Date.now(), 1000);
  const res = await query(c, { metrics: ["visitors"] });
  expect(res.status).toBe(429);
  const retry = Number(res.headers.get("retry-after"));
  expect(retry).toBeGreaterThanOrEqual(1);
  expect(retry).toBeLessThanOrEqual(3600);
  expect((await envelope(res)).error.message).toMatch(/used its 1000 queries this hour/);
  // A thousand actor calls first: slow on a loaded machine, and not what is measured here.
}, 60_000);

it("serves an OpenAPI document generated from the schemas", async () => {
  const res = await call("/api/v1/openapi.json");
  expect(res.status).toBe(200);
  const doc = await res.json<OpenApiDoc>();
  expect(doc.openapi).toBe("3.1.0");
  expect(doc.components.schemas.QuerySpec.properties.metrics.items.enum).toContain("bounce_rate");
  expect(doc.paths["/api/v1/reports"]?.get.parameters.map((p) => p.name)).toContain("report");
});

it("Cache-Control: no-cache answers fresh, not from the cache", async () => {
  const spec = { metrics: ["pageviews"], date_range: [day, day] };
  await query(a, spec);
  const cached = await (await query(a, spec)).json<QueryResponse>();
  expect(cached.meta.cached).toBe(true);
  const fresh = await (await query(a, spec, { "Cache-Control": "no-cache" })).json<QueryResponse>();
  expect(fresh.meta.cached).toBe(false);
  expect(fresh.results).toEqual(cached.results);
});
