/**
 * Every public route of the Worker, one line each, for the fuzz suite (test/workers/fuzz-*.test.ts,
 * bench/fuzz.ts) and the tenant-isolation matrix (test/workers/isolation-matrix.test.ts). A route
 * says who may call it and how to build a valid request for a property; the fuzzer mutates that
 * request, the matrix sends it with another property's key. A new route is one more line here.
 */

import { REPORTS } from "../../core/query/report-spec.ts";
import type { Capability } from "../../core/team/roles.ts";
import type { Rng } from "./fuzz-inputs.ts";
import { filterTree, hostileDate, hostileFunnelSteps, hostileQuerySpec } from "./fuzz-query.ts";
import { OPS_ROUTES } from "./fuzz-routes-ops.ts";
import { TEAM_ROUTES } from "./fuzz-routes-team.ts";

/** A property the suite created, with its credentials. */
export interface Tenant {
  property_id: string;
  api_key: string;
  key_id: string;
  mp_api_secret: string;
  domains: string[];
}

/** Who a route lets in: nobody checked, a property's API key (or admin), the admin token, or the GA4 MP secret. */
export type Access = "public" | "key" | "admin" | "mp-secret";

/** A request before auth and hostile changes: path with its query, headers, a JSON body (or NDJSON text). */
export interface BaseRequest {
  path: string;
  headers?: Record<string, string>;
  /** JSON value to send; a string is sent as is (NDJSON). */
  body?: unknown;
  /** Query parameters, kept apart so the fuzzer can mutate them one by one. */
  query?: Record<string, string>;
}

export interface Route {
  /** "POST /collect": how reports and failures name it. */
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  access: Access;
  /**
   * For a property's routes (`key`): the capability a caller needs (core/team/roles.ts); none said:
   * `view` for GET, `write` otherwise. The role matrix (test/workers/role-matrix.test.ts) sends each
   * route as every role.
   */
  needs?: Capability;
  /** A valid request about property `p` (for admin routes that change a property, `p` is a scratch one). */
  valid: (p: Tenant) => BaseRequest;
  /** Requests drawn from the route's own vocabulary (query trees, report names, dates), to reach past validation. */
  generate?: (r: Rng, p: Tenant) => BaseRequest;
  /**
   * The error answers are not the envelope: the tracker's 404 is plain text (it is a script URL).
   * Every other route, the compatible protocols included, refuses with the envelope.
   */
  plainErrors?: boolean;
  /** Changes a property's setup (keys, secrets, domains, jobs): the fuzzer aims it at a scratch property. */
  mutatesProperty?: boolean;
  /** Starts a background job with valid input: the fuzzer never sends it a valid body with the admin token. */
  startsJob?: boolean;
  /** Needs `Upgrade: websocket` to get past 426. */
  websocket?: boolean;
}

const HOUR = 3_600_000;
/** Yesterday, as the reports' dates. */
const yesterday = () => new Date(Date.now() - 24 * HOUR).toISOString().slice(0, 10);
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

const event = (p: Tenant, i = 0) => ({
  property_id: p.property_id,
  client_id: `fuzz-client-${i}`,
  event_type: i % 3 === 0 ? "signup" : "pageview",
  page_url: `https://${p.domains[0]}/page-${i}?utm_source=news`,
  page_title: "A page",
  referrer: "https://www.google.com/",
  screen_resolution: "1920x1080",
  language: "en-US",
  custom_dimensions: { plan: "pro" },
  custom_metrics: { price: 9.5 },
});

const querySpec = (p: Tenant) => ({
  property_id: p.property_id,
  metrics: ["visitors", "pageviews", "bounce_rate"],
  dimensions: ["visit:country", "time:day"],
  filters: [
    [
      "or",
      [
        ["is", "visit:country", ["DE", "US"]],
        ["contains", "event:page", ["/page"]],
      ],
    ],
  ],
  date_range: "7d",
  order_by: [["visitors", "desc"]],
  limit: 10,
});

const funnelSteps = JSON.stringify([
  { kind: "page", value: "/" },
  { kind: "event", value: "signup" },
]);

/** Report parameters from the reports' own vocabulary: every report, real and impossible dates, trees, steps. */
function reportParams(r: Rng, p: Tenant): Record<string, string> {
  const q: Record<string, string> = { property: p.property_id, report: r.pick(REPORTS) };
  if (r.chance(0.5)) {
    q.start = hostileDate(r);
    q.end = hostileDate(r);
  } else q.date_range = r.pick(["realtime", "today", "7d", "12mo", "all"]);
  if (r.chance(0.4)) q.filters = JSON.stringify(Array.from({ length: 1 + r.int(2) }, () => filterTree(r, 3)));
  if (q.report === "funnel" || r.chance(0.1)) q.steps = JSON.stringify(hostileFunnelSteps(r));
  if (r.chance(0.2)) q.window_seconds = String(r.pick([1, 3600, 7_776_000, 0, 1e12]));
  if (r.chance(0.2)) q.weeks = String(r.pick([1, 26, 27, 0]));
  if (r.chance(0.2)) q.compare = r.pick(["previous_period", "year_over_year"]);
  if (r.chance(0.2)) q.timezone = r.pick(["Europe/Berlin", "Pacific/Kiritimati", "Nope/Nowhere", "UTC"]);
  if (r.chance(0.2)) q.limit = String(r.pick([1, 10_000, 10_001, 0]));
  if (r.chance(0.2)) q.bots = r.pick(["true", "false"]);
  return q;
}

/** Every public route. Keep in step with workers/app.ts and the route files it mounts. */
export const ROUTES: readonly Route[] = [
  // Ingestion: ours, the three compatible protocols, history.
  {
    name: "POST /collect",
    method: "POST",
    access: "public",
    valid: (p) => ({ path: "/collect", headers: { "User-Agent": UA }, body: { events: [event(p, 0), event(p, 1)] } }),
  },
  {
    name: "POST /collect (one event)",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/collect",
      headers: { "User-Agent": UA, "Content-Type": "text/plain" },
      body: event(p, 2),
    }),
  },
  {
    name: "POST /api/event",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/api/event",
      headers: { "User-Agent": UA, "Content-Type": "text/plain" },
      body: {
        n: "pageview",
        u: `https://${p.domains[0]}/plausible?x=1`,
        d: p.domains[0],
        r: "https://duckduckgo.com/",
        p: { plan: "pro" },
        $: { currency: "EUR", amount: "9.99" },
        i: true,
        h: 0,
      },
    }),
  },
  {
    name: "POST /mp/collect",
    method: "POST",
    access: "mp-secret",
    valid: (p) => ({
      path: "/mp/collect",
      query: { measurement_id: p.property_id, api_secret: p.mp_api_secret },
      headers: { "User-Agent": UA },
      body: {
        client_id: "123.456",
        user_properties: { tier: { value: "gold" } },
        events: [
          { name: "page_view", params: { page_location: `https://${p.domains[0]}/ga4`, engagement_time_msec: 5 } },
        ],
      },
    }),
  },
  {
    name: "POST /debug/mp/collect",
    method: "POST",
    access: "mp-secret",
    valid: (p) => ({
      path: "/debug/mp/collect",
      query: { measurement_id: p.property_id, api_secret: p.mp_api_secret },
      body: { client_id: "123.456", events: [{ name: "purchase", params: { value: 3, currency: "EUR" } }] },
    }),
  },
  {
    name: "POST /api/send",
    method: "POST",
    access: "public",
    valid: (p) => ({
      path: "/api/send",
      headers: { "User-Agent": UA },
      body: {
        type: "event",
        payload: {
          website: p.property_id,
          hostname: p.domains[0],
          url: "/umami?q=1",
          referrer: "https://bing.com/",
          title: "Umami",
          screen: "1920x1080",
          language: "de-DE",
          name: "signup",
          data: { plan: "pro" },
        },
      },
    }),
  },
  {
    name: "POST /api/v1/import",
    method: "POST",
    access: "key",
    valid: (p) => ({
      path: "/api/v1/import",
      query: { property: p.property_id },
      headers: { "Content-Type": "application/x-ndjson" },
      body: [0, 1, 2]
        .map((i) => JSON.stringify({ ...event(p, i), event_timestamp: Date.now() - (40 + i) * 24 * HOUR }))
        .join("\n"),
    }),
  },
  // Questions.
  {
    name: "POST /api/v1/query",
    method: "POST",
    access: "key",
    needs: "view",
    valid: (p) => ({ path: "/api/v1/query", body: querySpec(p) }),
    generate: (r, p) => ({ path: "/api/v1/query", body: hostileQuerySpec(r, p.property_id) }),
  },
  {
    name: "GET /api/v1/query",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: "/api/v1/query", query: { q: JSON.stringify(querySpec(p)) } }),
    generate: (r, p) => ({ path: "/api/v1/query", query: { q: JSON.stringify(hostileQuerySpec(r, p.property_id)) } }),
  },
  {
    name: "GET /api/v1/reports",
    method: "GET",
    access: "key",
    valid: (p) => ({
      path: "/api/v1/reports",
      query: {
        property: p.property_id,
        report: "overview",
        start: yesterday(),
        end: yesterday(),
        timezone: "Europe/Berlin",
        filters: '[["is","visit:device",["mobile"]]]',
        compare: "previous_period",
      },
    }),
    generate: (r, p) => ({ path: "/api/v1/reports", query: reportParams(r, p) }),
  },
  {
    name: "GET /api/v1/reports (funnel)",
    method: "GET",
    access: "key",
    valid: (p) => ({
      path: "/api/v1/reports",
      query: {
        property: p.property_id,
        report: "funnel",
        date_range: "7d",
        steps: funnelSteps,
        window_seconds: "3600",
      },
    }),
  },
  {
    name: "GET /api/v1/reports (retention)",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: "/api/v1/reports", query: { property: p.property_id, report: "retention", weeks: "4" } }),
  },
  {
    name: "GET /api/v1/bots",
    method: "GET",
    access: "key",
    needs: "read",
    valid: (p) => ({ path: "/api/v1/bots", query: { property: p.property_id, samples: "5", reclassify: "true" } }),
    generate: (r, p) => ({
      path: "/api/v1/bots",
      query: { property: p.property_id, from: hostileDate(r), to: hostileDate(r), samples: String(r.int(120)) },
    }),
  },
  {
    name: "GET /api/v1/data-quality",
    method: "GET",
    access: "key",
    needs: "read",
    valid: (p) => ({ path: "/api/v1/data-quality", query: { property_id: p.property_id, from: yesterday() } }),
    generate: (r, p) => ({
      path: "/api/v1/data-quality",
      query: { property_id: p.property_id, from: hostileDate(r), to: hostileDate(r) },
    }),
  },
  // Live.
  {
    name: "GET /api/v1/realtime",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: "/api/v1/realtime", query: { property: p.property_id } }),
  },
  {
    name: "POST /api/v1/realtime/token",
    method: "POST",
    access: "key",
    needs: "view",
    valid: (p) => ({ path: "/api/v1/realtime/token", query: { property: p.property_id } }),
  },
  {
    name: "GET /ws/realtime",
    method: "GET",
    access: "key",
    websocket: true,
    valid: (p) => ({ path: "/ws/realtime", query: { property: p.property_id }, headers: { Upgrade: "websocket" } }),
    // Browser sockets: the short-lived ?token= (forged, expired, another property's, malformed).
    generate: (r, p) => ({
      path: "/ws/realtime",
      query: {
        property: p.property_id,
        token: r.pick([
          `${btoa(p.property_id).replace(/=+$/, "")}.${Date.now() + 60_000}.AAAA`,
          `${btoa(p.property_id).replace(/=+$/, "")}.1.x`,
          `${btoa(p.property_id).replace(/=+$/, "")}.99999999999999999999.${"A".repeat(43)}`,
          "a.b.c",
          "..",
          "x".repeat(4000),
          "%ED%A0%80.1.1",
        ]),
      },
      headers: { Upgrade: "websocket" },
    }),
  },
  // A property's goals and saved funnels (its key or admin).
  {
    name: "GET /api/v1/properties/:id/goals",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/goals` }),
  },
  {
    name: "POST /api/v1/properties/:id/goals",
    method: "POST",
    access: "key",
    valid: (p) => ({
      path: `/api/v1/properties/${p.property_id}/goals`,
      body: { name: "Pricing", kind: "page", page_path: "/pricing" },
    }),
  },
  {
    name: "DELETE /api/v1/properties/:id/goals/:name",
    method: "DELETE",
    access: "key",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/goals/Pricing` }),
  },
  {
    name: "GET /api/v1/properties/:id/funnels",
    method: "GET",
    access: "key",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/funnels` }),
  },
  {
    name: "PUT /api/v1/properties/:id/funnels",
    method: "PUT",
    access: "key",
    valid: (p) => ({
      path: `/api/v1/properties/${p.property_id}/funnels`,
      body: { funnels: [{ id: "signup", name: "Sign-up", steps: JSON.parse(funnelSteps) }] },
    }),
    generate: (r, p) => ({
      path: `/api/v1/properties/${p.property_id}/funnels`,
      body: { funnels: [{ id: `f${r.int(9)}`, name: "Generated", steps: hostileFunnelSteps(r) }] },
    }),
  },
  // GDPR: erase and export a visitor, follow erasures (its key or admin).
  {
    name: "DELETE /api/v1/properties/:id/visitors/:visitor",
    method: "DELETE",
    access: "key",
    needs: "manage",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/visitors/fuzz-client-0` }),
  },
  {
    name: "GET /api/v1/properties/:id/visitors/:visitor/export",
    method: "GET",
    access: "key",
    needs: "manage",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/visitors/fuzz-client-1/export` }),
  },
  {
    name: "GET /api/v1/properties/:id/erasures",
    method: "GET",
    access: "key",
    needs: "manage",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/erasures` }),
  },
  {
    name: "GET /api/v1/properties/:id/erasures/:erasure",
    method: "GET",
    access: "key",
    needs: "manage",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/erasures/no-such-erasure` }),
  },
  // Before the administration routes: those revoke the scratch property's key, which these use.
  ...OPS_ROUTES,
  // Administration (the admin token).
  {
    name: "POST /api/v1/properties",
    method: "POST",
    access: "admin",
    valid: () => ({ path: "/api/v1/properties", body: { name: "Fuzzed", domains: ["fuzz.example"] } }),
  },
  { name: "GET /api/v1/properties", method: "GET", access: "admin", valid: () => ({ path: "/api/v1/properties" }) },
  {
    name: "GET /api/v1/properties/:id",
    method: "GET",
    access: "key",
    needs: "read",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}` }),
  },
  {
    name: "PATCH /api/v1/properties/:id",
    method: "PATCH",
    access: "key",
    needs: "manage",
    mutatesProperty: true,
    valid: (p) => ({
      path: `/api/v1/properties/${p.property_id}`,
      body: { name: "Renamed", timezone: "Europe/Paris" },
    }),
  },
  ...TEAM_ROUTES,
  {
    name: "GET /api/v1/properties/:id/keys",
    method: "GET",
    access: "key",
    needs: "people",
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/keys` }),
  },
  {
    name: "POST /api/v1/properties/:id/keys",
    method: "POST",
    access: "key",
    needs: "people",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/keys`, body: { label: "fuzz", role: "viewer" } }),
  },
  {
    name: "DELETE /api/v1/properties/:id/keys/:keyId",
    method: "DELETE",
    access: "key",
    needs: "people",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/keys/${p.key_id}` }),
  },
  {
    name: "POST /api/v1/properties/:id/mp-secret",
    method: "POST",
    access: "key",
    needs: "people",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}/mp-secret` }),
  },
  {
    name: "POST /api/v1/admin/replay",
    method: "POST",
    access: "admin",
    startsJob: true,
    valid: (p) => ({
      path: "/api/v1/admin/replay",
      body: { from: yesterday(), to: yesterday(), property: p.property_id },
    }),
  },
  { name: "GET /api/v1/admin/replay", method: "GET", access: "admin", valid: () => ({ path: "/api/v1/admin/replay" }) },
  {
    name: "POST /api/v1/admin/warehouse/load",
    method: "POST",
    access: "admin",
    startsJob: true,
    valid: (p) => ({
      path: "/api/v1/admin/warehouse/load",
      body: { from: yesterday(), to: yesterday(), property: p.property_id },
    }),
  },
  {
    name: "GET /api/v1/admin/warehouse/load",
    method: "GET",
    access: "admin",
    valid: () => ({ path: "/api/v1/admin/warehouse/load" }),
  },
  // Last: it deletes the scratch property, which the fuzzer's setup routes above still use.
  {
    name: "DELETE /api/v1/properties/:id",
    method: "DELETE",
    access: "key",
    needs: "own",
    mutatesProperty: true,
    valid: (p) => ({ path: `/api/v1/properties/${p.property_id}` }),
  },
  // Static and documents.
  { name: "GET /t.js", method: "GET", access: "public", plainErrors: true, valid: () => ({ path: "/t.js" }) },
  { name: "GET /t.js.sri", method: "GET", access: "public", valid: () => ({ path: "/t.js.sri" }) },
  { name: "GET /health", method: "GET", access: "public", valid: () => ({ path: "/health" }) },
  {
    name: "GET /api/v1/openapi.json",
    method: "GET",
    access: "public",
    valid: () => ({ path: "/api/v1/openapi.json" }),
  },
];

/** The capability a property route needs (its `needs`, else view for GET and write otherwise). */
export const needsOf = (route: Route): Capability => route.needs ?? (route.method === "GET" ? "view" : "write");

/** Routes that act on one property named in the request: the isolation matrix's rows. */
export const PROPERTY_ROUTES = ROUTES.filter((r) => r.access === "key" || r.access === "mp-secret");
