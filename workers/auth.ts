/**
 * Who is calling: the admin token (every property) or a property's API key (that property only).
 * Both travel as `Authorization: Bearer …`; comparisons are constant-time.
 */
import type { Context } from "hono";
import { AppError } from "../core/errors.ts";
import { sha256Hex } from "../core/hash.ts";
import { digestsEqual } from "../core/property/keys.ts";
import { loadConfig } from "../platform/config.ts";
import { propertyStub } from "../platform/properties.ts";

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
  if (!(await isAdminToken(c, token))) throw new AppError("unauthorized", 401, "the admin token is not valid");
}

/** Property routes: the admin token, or an active API key of exactly this property (else 401/403). */
export async function requirePropertyAccess(c: Ctx, propertyId: string): Promise<"admin" | "key"> {
  const token = bearer(c);
  if (!token) throw new AppError("unauthorized", 401, "Authorization: Bearer <api key> is required");
  if (await isAdminToken(c, token)) return "admin";
  if (!token.startsWith("tk_")) throw new AppError("unauthorized", 401, "the API key is not valid");
  if (await propertyStub(c.env, propertyId).verifyKey(token)) return "key";
  throw new AppError("forbidden", 403, `this API key does not grant access to property ${propertyId}`);
}
