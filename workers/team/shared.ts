/** What the team routes share: the session cookie, the audit write, links on this deployment, path params. */
import type { Context } from "hono";
import { deleteCookie, setCookie } from "hono/cookie";
import { AppError } from "../../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../../core/event.ts";
import { actorOf, type Principal } from "../../core/team/roles.ts";
import { SESSION_COOKIE, SESSION_TTL_MS, sessionCookieValue } from "../../core/team/tokens.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyStub } from "../../platform/properties.ts";
import { teamStub } from "../../platform/team.ts";

export type Ctx = Context<{ Bindings: Env }>;

/** HttpOnly: no script reads it; Secure; SameSite=Strict: no other site's request carries it. */
export function setSessionCookie(c: Ctx, accountId: string, token: string): void {
  setCookie(c, SESSION_COOKIE, sessionCookieValue(accountId, token), {
    httpOnly: true,
    secure: true,
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_TTL_MS / 1000,
  });
}

export function clearSessionCookie(c: Ctx): void {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true, httpOnly: true, sameSite: "Strict" });
}

/** Writes one audit entry for the property (awaited: an action is not done until it is recorded). */
export async function audit(
  c: Ctx,
  propertyId: string,
  who: Principal | string,
  action: string,
  target: string,
  detail: Record<string, string | number | boolean | null> = {},
): Promise<void> {
  const actor = typeof who === "string" ? who : actorOf(who);
  await teamStub(c.env, propertyId).audit({ actor, action, target, detail }, Date.now());
}

/** The deployment's origin for links (PUBLIC_URL, else this request's). */
export function publicOrigin(c: Ctx): string {
  return loadConfig(c.env).PUBLIC_URL.replace(/\/+$/, "") || new URL(c.req.url).origin;
}

export function propertyParam(c: Ctx, name = "id"): string {
  const id = c.req.param(name) ?? "";
  if (!PROPERTY_ID_PATTERN.test(id))
    throw new AppError("invalid_request", 400, `property_id: ${id} is not a valid property id`);
  return id;
}

/** The property's configuration, or 404. */
export async function existingProperty(env: Env, id: string) {
  const config = await propertyStub(env, id).config();
  if (!config) throw new AppError("property_not_found", 404, `property ${id} does not exist`);
  return config;
}

/** JSON for answers whose type Hono's c.json cannot walk (saved items' definitions are recursive JSON). */
export function jsonAnswer(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json" } });
}
