/**
 * Turns a route of test/support/fuzz-routes.ts into hostile requests, and judges the answers: no
 * status ≥ 500, every refusal in the error envelope with its status, 101 only where a socket may
 * open. Shared by the workers tests (a few thousand cases) and bench/fuzz.ts (≥ 100,000).
 */
import {
  encodeQueryValue,
  type FuzzAssets,
  HOSTILE_KEYS,
  HOSTILE_STRINGS,
  hostileBody,
  hostileValue,
  mutate,
  type Rng,
  toJsonText,
} from "./fuzz-inputs.ts";
import type { Route, Tenant } from "./fuzz-routes.ts";

/** The properties a run created: `a` is aimed at, `b` is another tenant, `scratch` takes the setup changes. */
export interface FuzzContext {
  a: Tenant;
  b: Tenant;
  scratch: Tenant;
  adminToken: string;
  assets: FuzzAssets;
}

/** One generated request, as plain data (tests send it through the Worker's fetch, the bench over HTTP). */
export interface FuzzCase {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Uint8Array<ArrayBuffer> | undefined;
  /** What was done, to read a failure without replaying it. */
  label: string;
}

/** Header values that parse as headers yet are hostile (fetch refuses control characters outright). */
const HEADER_VALUES = [
  "",
  " ",
  "null",
  "x".repeat(10_000),
  "() { :; }; /bin/sh",
  "Mozilla/5.0",
  "Googlebot/2.1 (+http://www.google.com/bot.html)",
  "curl/8.0",
  "%00",
  "\t",
];
const IPS = ["203.0.113.7", "2001:db8::1", "not-an-ip", "999.999.1.1", "::ffff:127.0.0.1", "", "10.0.0.1, 10.0.0.2"];

function credentialFor(r: Rng, route: Route, ctx: FuzzContext, target: Tenant): string | undefined {
  const right = route.access === "admin" ? ctx.adminToken : route.access === "key" ? target.api_key : undefined;
  const x = r.next();
  if (x < 0.6) return right;
  if (x < 0.68) return undefined;
  if (x < 0.74) return ctx.b.api_key;
  if (x < 0.8) return ctx.adminToken;
  if (x < 0.85) return `${target.api_key}x`;
  if (x < 0.9) return target.api_key.replace(/.$/, (c) => (c === "a" ? "b" : "a"));
  return r.pick(["tk_", "tk_x", `tk_${"0".repeat(500)}`, "adm_guess", ctx.adminToken.slice(0, -1), "a b"]);
}

function authHeader(r: Rng, token: string | undefined): Record<string, string> {
  if (token === undefined) return {};
  const x = r.next();
  if (x < 0.85) return { Authorization: `Bearer ${token}` };
  if (x < 0.9) return { Authorization: `bearer   ${token}` };
  if (x < 0.95) return { Authorization: `Basic ${token}` };
  return { Authorization: r.pick(["Bearer", "Bearer ", `Bearer ${token} ${token}`, token]) };
}

function mutateQuery(r: Rng, query: Record<string, string>, ctx: FuzzContext, mayRetarget: boolean): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of Object.entries(query)) {
    const x = r.next();
    if (x < 0.08) continue;
    if (x < 0.2) pairs.push([k, String(r.pick(HOSTILE_STRINGS))]);
    else if (x < 0.26 && mayRetarget) pairs.push([k, r.pick([ctx.b.property_id, ctx.scratch.property_id])]);
    else if (x < 0.32 && (v.startsWith("[") || v.startsWith("{")))
      pairs.push([k, toJsonText(mutate(r, JSON.parse(v)))]);
    else if (x < 0.36) pairs.push([k, v], [k, String(r.pick(HOSTILE_STRINGS))]);
    else pairs.push([k, v]);
  }
  if (r.chance(0.08)) pairs.push([r.pick(HOSTILE_KEYS), toJsonText(hostileValue(r))]);
  if (r.chance(0.05)) pairs.push(["format", r.pick(["csv", "json", "xml"])]);
  return pairs.map(([k, v]) => `${encodeQueryValue(k)}=${encodeQueryValue(v)}`).join("&");
}

/** Replaces the property id in `/api/v1/properties/:id/…`, or the goal name or key id after it. */
function mutatePath(r: Rng, path: string, ctx: FuzzContext, route: Route): string {
  const parts = path.split("/");
  if (parts[3] !== "properties" || parts.length < 5 || !r.chance(0.15)) return path;
  const i = parts.length > 6 && r.chance(0.5) ? parts.length - 1 : 4;
  const replacement =
    route.mutatesProperty || i !== 4 || !r.chance(0.4)
      ? String(r.pick(HOSTILE_STRINGS)).slice(0, 300)
      : r.pick([ctx.b.property_id, ctx.scratch.property_id]);
  parts[i] = encodeQueryValue(replacement);
  return parts.join("/");
}

/** NDJSON with mutated, broken, blank and oversized lines. */
function mutateNdjson(r: Rng, text: string): string {
  const lines = text.split("\n").map((line) => {
    const x = r.next();
    if (x < 0.4) return toJsonText(mutate(r, JSON.parse(line)));
    if (x < 0.45) return line.slice(0, r.int(line.length));
    if (x < 0.5) return "";
    if (x < 0.53) return `{"page_url":"${"x".repeat(70_000)}"}`;
    if (x < 0.56) return toJsonText(hostileValue(r));
    return line;
  });
  return lines.join(r.chance(0.2) ? "\r\n" : "\n") + (r.chance(0.3) ? "\n" : "");
}

/** One hostile request for `route`, about `ctx.a` mostly; `i` names it in failures. */
export function hostileCase(r: Rng, route: Route, ctx: FuzzContext, i: number): FuzzCase {
  const target = route.mutatesProperty || route.startsJob ? ctx.scratch : r.chance(0.9) ? ctx.a : ctx.b;
  const generated = route.generate !== undefined && r.chance(0.4);
  const base = generated && route.generate ? route.generate(r, target) : route.valid(target);
  const token = credentialFor(r, route, ctx, target);
  const headers: Record<string, string> = { ...(base.headers ?? {}), ...authHeader(r, token) };
  if (route.access === "public" && r.chance(0.05)) Object.assign(headers, authHeader(r, ctx.b.api_key));
  if (r.chance(0.1)) headers["User-Agent"] = r.pick(HEADER_VALUES);
  else if (r.chance(0.05)) delete headers["User-Agent"];
  if (r.chance(0.15)) headers["CF-Connecting-IP"] = r.pick(IPS);
  if (r.chance(0.05)) headers["X-Forwarded-For"] = r.pick(IPS);
  if (r.chance(0.05)) headers.Origin = r.pick(["https://evil.example", "null", `https://${target.domains[0]}`]);
  if (r.chance(0.05)) headers["Cache-Control"] = "no-cache";
  if (r.chance(0.05)) headers.Accept = "text/csv";
  if (route.websocket && r.chance(0.3)) headers.Upgrade = r.pick(["WebSocket", "h2c", "websocket, x", ""]);

  let search = "";
  if (base.query)
    search =
      generated && r.chance(0.6)
        ? new URLSearchParams(base.query).toString()
        : mutateQuery(r, base.query, ctx, !route.mutatesProperty && !route.startsJob);
  const path = mutatePath(r, base.path, ctx, route) + (search ? `?${search}` : "");

  let body: string | Uint8Array<ArrayBuffer> | undefined;
  let how = "no body";
  if (route.method !== "GET") {
    if (typeof base.body === "string") {
      const x = r.next();
      if (x < 0.05) {
        body = ctx.assets.bomb;
        headers["Content-Encoding"] = "gzip";
        how = "gzip-bomb";
      } else if (x < 0.08) {
        body = ctx.assets.truncatedGzip;
        headers["Content-Encoding"] = "gzip";
        how = "corrupt-gzip";
      } else if (x < 0.11) {
        body = Uint8Array.from({ length: r.int(2000) }, () => r.int(256));
        how = "random-bytes";
      } else if (x < 0.13) {
        body = "{}\n".repeat(200_000);
        how = "200k-lines";
      } else {
        body = mutateNdjson(r, base.body);
        how = "ndjson";
      }
    } else if (base.body !== undefined || r.chance(0.2)) {
      const x = r.next();
      const keep = generated ? 0.6 : 0.12;
      let value: unknown = x < keep ? base.body : x < 0.92 ? mutate(r, base.body ?? {}) : hostileValue(r);
      // A job started by a valid admin request would rewrite other test files' ClickHouse hours:
      // with the admin token, a job route only ever gets a body its strict schema refuses.
      if (route.startsJob && token === ctx.adminToken && typeof value === "object" && value !== null)
        value = { ...(value as object), fuzz_extra: 1 };
      const encoded = hostileBody(r, value, ctx.assets);
      body = encoded.body;
      Object.assign(headers, encoded.headers);
      how = encoded.how;
      if (route.startsJob && token === ctx.adminToken && typeof body === "string" && !body.includes("fuzz_extra"))
        body = "[]";
    }
  }
  return {
    route: route.name,
    method: route.method,
    path,
    headers,
    body,
    label: `#${i} ${route.method} ${path.slice(0, 160)} [${how}] auth=${token === undefined ? "none" : token === ctx.adminToken ? "admin" : token === ctx.a.api_key ? "a" : token === ctx.b.api_key ? "b" : "bad"}`,
  };
}

/** A Request for a case (a fresh one per send: bodies are streams). */
export function toRequest(base: string, c: FuzzCase): Request {
  return new Request(`${base}${c.path}`, { method: c.method, headers: c.headers, body: c.body });
}

/** What an answer was: its status and, when it breaks a rule, why. */
export interface Verdict {
  status: number;
  problem?: string;
}

/** Closes a socket the Worker opened, so a 101 leaves nothing behind. */
function closeSocket(res: Response): void {
  const ws = (res as Response & { webSocket?: WebSocket | null }).webSocket;
  if (!ws) return;
  (ws as WebSocket & { accept?: () => void }).accept?.();
  ws.close(1000, "fuzz case done");
}

/** Reads the whole answer and judges it against the route's conventions. */
export async function judge(route: Route, res: Response): Promise<Verdict> {
  const status = res.status;
  if (status === 101) {
    closeSocket(res);
    return route.websocket ? { status } : { status, problem: "101 from a route that holds no sockets" };
  }
  const text = await res.text();
  if (status >= 500) return { status, problem: `status ${status}: ${text.slice(0, 300)}` };
  if (status < 400 || route.plainErrors) return { status };
  // The runtime's own refusals of an oversized request line or head, before any code of ours runs
  // (Cloudflare's edge has the same limits): not the Worker's answers.
  if ((status === 414 || status === 431) && !text.startsWith("{")) return { status };
  let body: { error?: { code?: unknown; message?: unknown; status?: unknown } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return { status, problem: `status ${status} without a JSON envelope: ${text.slice(0, 200)}` };
  }
  const e = body.error;
  if (typeof e?.code !== "string" || typeof e.message !== "string" || e.message === "" || e.status !== status)
    return { status, problem: `status ${status} with a malformed envelope: ${text.slice(0, 200)}` };
  return { status };
}

/** Counts per route and status class, for the bench's table and the tests' sanity checks. */
export class FuzzTally {
  readonly byRoute = new Map<string, Record<string, number>>();
  readonly problems: { route: string; problem: string }[] = [];

  add(route: string, verdict: Verdict, label: string): void {
    const row = this.byRoute.get(route) ?? {};
    const cls = `${Math.floor(verdict.status / 100)}xx`;
    row[cls] = (row[cls] ?? 0) + 1;
    row[String(verdict.status)] = (row[String(verdict.status)] ?? 0) + 1;
    this.byRoute.set(route, row);
    if (verdict.problem) this.problems.push({ route, problem: `${label}: ${verdict.problem}` });
  }

  /** The broken rules seen on one route, each with the case that broke it. */
  problemsOf(route: string): string[] {
    return this.problems.filter((p) => p.route === route).map((p) => p.problem);
  }

  count(route: string, key: string): number {
    return this.byRoute.get(route)?.[key] ?? 0;
  }
}
