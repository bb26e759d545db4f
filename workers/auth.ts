/**
 * Who is calling, and may they: every property route names the capability it needs
 * (core/team/roles.ts) and `requirePropertyAccess` answers with the caller's Principal or throws.
 * Credentials, first match wins:
 * - `Authorization: Bearer` the admin token (everything), a property's API key (its role, less
 *   `people`/`own`), or a shared link's token (`shr_`/`shu_`: read only);
 * - the `tally_session` cookie of a person (their role on this property; unsafe methods only from
 *   the same origin: SameSite=Strict already keeps other sites' requests cookieless);
 * - nothing, for a property whose dashboard is public (read only).
 * Comparisons are constant-time; a presented credential is checked only for an address not blocked
 * for failing too often, and each failure counts (platform/throttle.ts).
 */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { isWellFormedApiKey } from "../core/abuse.ts";
import { AppError } from "../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../core/event.ts";
import { sha256Hex } from "../core/hash.ts";
import { digestsEqual } from "../core/property/keys.ts";
import { allows, type Capability, type Principal } from "../core/team/roles.ts";
import { parseSessionCookie, SESSION_COOKIE, tokenKind } from "../core/team/tokens.ts";
import { loadConfig } from "../platform/config.ts";
import { propertyStub } from "../platform/properties.ts";
import { accountById, teamStub } from "../platform/team.ts";
import { credentialGate } from "../platform/throttle.ts";

type Ctx = Context<{ Bindings: Env }>;

/** The bearer token of a request, or undefined. */
export function bearer(c: Ctx): string | undefined {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

async function isAdminToken(c: Ctx, token: string): Promise<boolean> {
  const expected = loadConfig(c.env).ADMIN_TOKEN;
  if (expected === "") return false;
  return digestsEqual(await sha256Hex(token), await sha256Hex(expected));
}

/** Deployment-wide routes (`operate`): 401 unless the admin token is presented. */
export async function requireAdmin(c: Ctx): Promise<void> {
  const token = bearer(c);
  if (!token) throw new AppError("unauthorized", 401, "Authorization: Bearer <admin token> is required");
  const gate = await credentialGate(c.env, c.req.raw);
  if (!(await isAdminToken(c, token)))
    throw await gate.fail(new AppError("unauthorized", 401, "the admin token is not valid"));
}

const RECENT_KEY_MS = 10 * 60_000;
/** Hashes of keys this isolate verified in the last 10 minutes (bounded), by when they stop counting. */
const recentKeys = new Map<string, number>();

function rememberValid(digest: string, now: number): void {
  if (recentKeys.size >= 10_000) recentKeys.clear();
  recentKeys.set(digest, now + RECENT_KEY_MS);
}

/**
 * An API key of this property, with its role. A well-formed key this property does not know counts
 * as a failure, unless this isolate saw it valid for another property lately: there is no index of
 * every property's keys to ask.
 */
async function keyPrincipal(c: Ctx, propertyId: string, token: string): Promise<Principal> {
  const gate = await credentialGate(c.env, c.req.raw);
  if (!isWellFormedApiKey(token))
    throw await gate.fail(
      new AppError("unauthorized", 401, "the API key is not valid (keys look like tk_<8 hex>_<43 characters>)"),
    );
  const [role, digest] = await Promise.all([propertyStub(c.env, propertyId).keyRole(token), sha256Hex(token)]);
  const now = Date.now();
  if (role) {
    rememberValid(digest, now);
    return { kind: "key", key_id: token.slice(3, 11), role };
  }
  const refusal = new AppError("forbidden", 403, `this API key does not grant access to property ${propertyId}`);
  throw (recentKeys.get(digest) ?? 0) > now ? refusal : await gate.fail(refusal);
}

async function sharePrincipal(c: Ctx, propertyId: string, token: string): Promise<Principal> {
  const gate = await credentialGate(c.env, c.req.raw);
  const found = await teamStub(c.env, propertyId).verifyShare(token, Date.now());
  if (found === "locked")
    throw new AppError(
      "share_locked",
      401,
      "this shared link has a password: unlock it first (POST /api/v1/shares/unlock)",
    );
  if (!found)
    throw await gate.fail(
      new AppError("share_invalid", 401, "this shared link is not valid: revoked, expired or unknown"),
    );
  return { kind: "share", share_id: found.share.share_id };
}

/** The person behind the session cookie, or undefined without one; 401 for a cookie that no longer opens. */
export async function sessionPerson(c: Ctx): Promise<{ email: string; name: string; account_id: string } | undefined> {
  const cookie = getCookie(c, SESSION_COOKIE);
  if (!cookie) return undefined;
  const gate = await credentialGate(c.env, c.req.raw);
  const parsed = parseSessionCookie(cookie);
  const person = parsed && (await accountById(c.env, parsed.account_id)?.session(parsed.token, Date.now()));
  if (!parsed || !person)
    throw await gate.fail(new AppError("session_expired", 401, "the session has ended: sign in again"));
  return { ...person, account_id: parsed.account_id };
}

/** Unsafe methods with a cookie must come from the dashboard's own origin (defence beside SameSite=Strict). */
function checkSameOrigin(c: Ctx): void {
  if (c.req.method === "GET" || c.req.method === "HEAD") return;
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  const ok = origin ? origin === new URL(c.req.url).origin : site === undefined || site === "same-origin";
  if (!ok)
    throw new AppError(
      "forbidden",
      403,
      "cross-site request refused: the session cookie works only from the dashboard",
    );
}

async function isPublic(env: Env, propertyId: string): Promise<boolean> {
  return (await propertyStub(env, propertyId).config())?.public_dashboard === true;
}

/** Who the caller is for this property, before any capability check. */
export async function principalFor(c: Ctx, propertyId: string): Promise<Principal> {
  const token = bearer(c);
  if (token) {
    const kind = tokenKind(token);
    if (kind === "shr" || kind === "shu") return sharePrincipal(c, propertyId, token);
    if (token.startsWith("tk_")) return keyPrincipal(c, propertyId, token);
    const gate = await credentialGate(c.env, c.req.raw);
    if (await isAdminToken(c, token)) return { kind: "admin" };
    throw await gate.fail(
      new AppError(
        "unauthorized",
        401,
        "the token is not valid: an API key (tk_<8 hex>_<43 characters>), a shared link's token or the admin token",
      ),
    );
  }
  const person = await sessionPerson(c);
  if (person) {
    checkSameOrigin(c);
    const role = await teamStub(c.env, propertyId).role(person.email);
    if (role) return { kind: "account", email: person.email, role };
    if (await isPublic(c.env, propertyId)) return { kind: "public" };
    throw new AppError("forbidden", 403, `${person.email} is not a member of property ${propertyId}`);
  }
  if (await isPublic(c.env, propertyId)) return { kind: "public" };
  throw new AppError("unauthorized", 401, "sign in, or send Authorization: Bearer <api key>");
}

const principals = new WeakMap<Request, Principal>();

/** The principal a request was admitted as (after requirePropertyAccess). */
export function principalOf(c: Ctx): Principal {
  const principal = principals.get(c.req.raw);
  if (!principal) throw new AppError("internal", 500, "no principal: the route skipped its access check");
  return principal;
}

/** Property routes: the caller, if they hold `capability` on this property (else 401/403). */
export async function requirePropertyAccess(c: Ctx, propertyId: string, capability: Capability): Promise<Principal> {
  const principal = await principalFor(c, propertyId);
  if (!allows(principal, capability)) {
    const who = principal.kind === "account" || principal.kind === "key" ? `role ${principal.role}` : principal.kind;
    throw new AppError("forbidden", 403, `${who} may not do this on property ${propertyId} (it needs "${capability}")`);
  }
  principals.set(c.req.raw, principal);
  return principal;
}

/**
 * Middleware of a property's routes (`:id` in the path): a valid id, then the capability — `read`
 * for GET and HEAD, else the one given (`write` unless said).
 */
export function propertyAccess(unsafe: Capability = "write", safe: Capability = "read") {
  return async function checkAccess(c: Ctx, next: () => Promise<void>): Promise<void> {
    const id = c.req.param("id") ?? "";
    if (!PROPERTY_ID_PATTERN.test(id))
      throw new AppError("invalid_request", 400, `property_id: ${id} is not a valid property id`);
    await requirePropertyAccess(c, id, c.req.method === "GET" || c.req.method === "HEAD" ? safe : unsafe);
    await next();
  };
}
