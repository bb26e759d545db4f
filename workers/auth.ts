/**
 * Who is calling: the admin token (every property) or a property's API key (that property only).
 * Both travel as `Authorization: Bearer …`; comparisons are constant-time. A presented credential
 * is checked only for an address not blocked for failing too often, and each failure counts
 * (platform/throttle.ts); a token without the shape of a key never reaches an actor.
 */
import type { Context } from "hono";
import { isWellFormedApiKey } from "../core/abuse.ts";
import { AppError } from "../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../core/event.ts";
import { sha256Hex } from "../core/hash.ts";
import { digestsEqual } from "../core/property/keys.ts";
import { loadConfig } from "../platform/config.ts";
import { propertyStub } from "../platform/properties.ts";
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

/** Admin routes: 401 unless the admin token is presented. */
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

/** True when the key verified for some property in this isolate recently: a 403 for it is a mistake, not a guess. */
function recentlyValid(digest: string, now: number): boolean {
  return (recentKeys.get(digest) ?? 0) > now;
}

function rememberValid(digest: string, now: number): void {
  if (recentKeys.size >= 10_000) recentKeys.clear();
  recentKeys.set(digest, now + RECENT_KEY_MS);
}

/**
 * Property routes: the admin token, or an active API key of exactly this property (else 401/403).
 * A well-formed key this property does not know counts as a failure, unless this isolate saw it
 * valid for another property lately: there is no index of every property's keys to ask.
 */
export async function requirePropertyAccess(c: Ctx, propertyId: string): Promise<"admin" | "key"> {
  const token = bearer(c);
  if (!token) throw new AppError("unauthorized", 401, "Authorization: Bearer <api key> is required");
  const gate = await credentialGate(c.env, c.req.raw);
  if (await isAdminToken(c, token)) return "admin";
  if (!isWellFormedApiKey(token))
    throw await gate.fail(
      new AppError("unauthorized", 401, "the API key is not valid (keys look like tk_<8 hex>_<43 characters>)"),
    );
  const [valid, digest] = await Promise.all([propertyStub(c.env, propertyId).verifyKey(token), sha256Hex(token)]);
  const now = Date.now();
  if (valid) {
    rememberValid(digest, now);
    return "key";
  }
  const refusal = new AppError("forbidden", 403, `this API key does not grant access to property ${propertyId}`);
  throw recentlyValid(digest, now) ? refusal : await gate.fail(refusal);
}

/**
 * Middleware of a property's routes (`:id` in the path): a valid id, then the admin token or that
 * property's key. The property itself may still not exist (each route answers its 404).
 */
export async function propertyAccess(c: Ctx, next: () => Promise<void>): Promise<void> {
  const id = c.req.param("id") ?? "";
  if (!PROPERTY_ID_PATTERN.test(id))
    throw new AppError("invalid_request", 400, `property_id: ${id} is not a valid property id`);
  await requirePropertyAccess(c, id);
  await next();
}
