/**
 * The role matrix (issue #21): every property route of the table (test/support/fuzz-routes.ts) ×
 * every kind of caller — the four roles as people (cookie), API keys of three roles, a shared link,
 * a public dashboard's visitor (no credential: the isolation matrix has it refused when not public), the admin token — lets in exactly those holding the route's
 * capability (core/team/roles.ts) and refuses the others with 401/403. Deployment routes let in the
 * admin token only. Each route runs on a property of its own, refusals first, so a route that changes
 * or deletes the property cannot decide a later caller's answer.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { allows, type Principal, ROLES, type Role } from "../../core/team/roles.ts";
import { needsOf, ROUTES, type Route, type Tenant } from "../support/fuzz-routes.ts";
import { ADMIN, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
let n = 0;
const PASSWORD = "role matrix password";

interface Caller {
  name: string;
  principal: Principal | undefined;
  headers: (p: Tenant) => Promise<Record<string, string>>;
}

const post = (path: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  exports.default.fetch(
    new Request(`http://tally.test${path}`, {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json", "CF-Connecting-IP": address() },
      body: JSON.stringify(body),
    }),
  );
/** Each request from its own address: failure limits per address must not decide this matrix. */
const address = () => `198.19.${Math.floor(++n / 250)}.${n % 250}`;

/** A person of `role` on p: invited by the admin token, accepted (their account is made on first use). */
async function person(p: Tenant, role: Role): Promise<Record<string, string>> {
  const email = `${role}-${run}@example.com`;
  const invited = await post(`/api/v1/properties/${p.property_id}/invitations`, { email, role });
  const token = ((await invited.json()) as { url: string }).url.split("#")[1];
  const accepted = await post(
    "/api/v1/invitations/accept",
    { property_id: p.property_id, token, email, password: PASSWORD },
    {},
  );
  expect(accepted.status, `${role} joins`).toBe(200);
  return { Cookie: (accepted.headers.get("set-cookie") ?? "").split(";")[0] ?? "", Origin: "http://tally.test" };
}

async function key(p: Tenant, role: Role): Promise<Record<string, string>> {
  const issued = await post(`/api/v1/properties/${p.property_id}/keys`, { label: `matrix ${role}`, role });
  return { Authorization: `Bearer ${((await issued.json()) as { api_key: string }).api_key}` };
}

const CALLERS: Caller[] = [
  ...ROLES.map((role) => ({
    name: `${role} (person)`,
    principal: { kind: "account", email: "", role } as const,
    headers: (p: Tenant) => person(p, role),
  })),
  ...(["viewer", "editor", "admin"] as const).map((role) => ({
    name: `${role} key`,
    principal: { kind: "key", key_id: "", role } as const,
    headers: (p: Tenant) => key(p, role),
  })),
  {
    name: "shared link",
    principal: { kind: "share", share_id: "" },
    headers: async (p) => {
      const created = await post(`/api/v1/properties/${p.property_id}/shares`, { label: "matrix" });
      return { Authorization: `Bearer ${((await created.json()) as { token: string }).token}` };
    },
  },
  {
    name: "public visitor",
    principal: { kind: "public" },
    headers: async (p) => {
      await exports.default.fetch(
        new Request(`http://tally.test/api/v1/properties/${p.property_id}`, {
          method: "PATCH",
          headers: { ...ADMIN, "Content-Type": "application/json" },
          body: JSON.stringify({ public_dashboard: true }),
        }),
      );
      return {};
    },
  },
  { name: "admin token", principal: { kind: "admin" }, headers: async () => ADMIN },
];

function request(route: Route, p: Tenant, auth: Record<string, string>): Request {
  const base = route.valid(p);
  const search = base.query ? `?${new URLSearchParams(base.query)}` : "";
  const body =
    base.body === undefined ? undefined : typeof base.body === "string" ? base.body : JSON.stringify(base.body);
  const headers = {
    ...base.headers,
    ...auth,
    "CF-Connecting-IP": address(),
    ...(body && typeof base.body !== "string" ? { "Content-Type": "application/json" } : {}),
  };
  return new Request(`http://tally.test${base.path}${search}`, { method: route.method, headers, body });
}

async function statusOf(route: Route, p: Tenant, auth: Record<string, string>): Promise<number> {
  const res = await exports.default.fetch(request(route, p, auth));
  const ws = (res as Response & { webSocket?: WebSocket | null }).webSocket;
  if (ws) {
    ws.accept();
    ws.close(1000, "role matrix");
  } else await res.arrayBuffer();
  return res.status;
}

const expected = (route: Route, caller: Caller) =>
  route.access === "public" ||
  (caller.principal !== undefined &&
    (route.access === "admin" ? caller.principal.kind === "admin" : allows(caller.principal, needsOf(route))));

describe("the role matrix: every route × every caller", () => {
  const routes = ROUTES.filter((r) => r.access === "key" || r.access === "admin");
  it("covers the team's routes and the deployment's", () => {
    expect(routes.length).toBeGreaterThan(40);
  });
  let i = 0;
  for (const route of routes) {
    it(`${route.name} (needs ${route.access === "admin" ? "operate" : needsOf(route)})`, async () => {
      const p = (await createProperty({
        property_id: `RM-${run}-${++i}`,
        domains: [`rm-${run}-${i}.example`],
      })) as Tenant;
      const prepared = await Promise.all(CALLERS.map(async (c) => ({ caller: c, auth: await c.headers(p) })));
      // Refusals first, then admissions (the admin token last): a route that deletes cannot skew the rest.
      const ordered = [
        ...prepared.filter((x) => !expected(route, x.caller)),
        ...prepared.filter((x) => expected(route, x.caller)),
      ];
      const seen: Record<string, string> = {};
      const want: Record<string, string> = {};
      for (const { caller, auth } of ordered) {
        const status = await statusOf(route, p, auth);
        seen[caller.name] = [401, 403].includes(status) ? "refused" : status >= 500 ? `error ${status}` : "let in";
        want[caller.name] = expected(route, caller) ? "let in" : "refused";
      }
      expect(seen).toEqual(want);
    });
  }
});
