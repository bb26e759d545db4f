/**
 * CORS for the collect endpoints: only origins that belong to some property's domains are
 * answered. A preflight carries no body, so it is judged against every property's domains (the
 * registry's index, cached 60 s); the POST itself is judged against the event's own property.
 */
import type { Context, Next } from "hono";
import { registryStub } from "../../platform/properties.ts";

const TTL_MS = 60_000;
const known = new Map<string, { ok: boolean; expires: number }>();

/** True when the origin's host (or a parent domain) is listed by some property. */
export async function originKnown(env: Env, origin: string, now = Date.now()): Promise<boolean> {
  if (!URL.canParse(origin)) return false;
  const host = new URL(origin).hostname.toLowerCase();
  const hit = known.get(host);
  if (hit && hit.expires > now) return hit.ok;
  const ok = (await registryStub(env).propertiesForHost(host)).length > 0;
  if (known.size > 10_000) known.clear();
  known.set(host, { ok, expires: now + TTL_MS });
  return ok;
}

const ALLOW_HEADERS = "Content-Type, Content-Encoding";

/**
 * Middleware: answers preflights, and adds CORS headers to answers for known origins. Server-side
 * senders send no Origin: they pass straight through, without an extra async step.
 */
export function collectCors(c: Context<{ Bindings: Env }>, next: Next): Promise<Response | undefined> | Promise<void> {
  const origin = c.req.header("origin");
  if (c.req.method !== "OPTIONS" && !origin) return next();
  return withOrigin(c, next, origin);
}

async function withOrigin(
  c: Context<{ Bindings: Env }>,
  next: Next,
  origin: string | undefined,
): Promise<Response | undefined> {
  if (c.req.method === "OPTIONS") {
    if (!origin || !(await originKnown(c.env, origin))) return c.body(null, 403, { Vary: "Origin" });
    return c.body(null, 204, {
      "Access-Control-Allow-Origin": origin,
      "Access-Control-Allow-Methods": "POST, OPTIONS",
      "Access-Control-Allow-Headers": ALLOW_HEADERS,
      "Access-Control-Max-Age": "86400",
      Vary: "Origin",
    });
  }
  await next();
  c.res.headers.append("Vary", "Origin");
  if (origin && c.res.status !== 403 && (await originKnown(c.env, origin)))
    c.res.headers.set("Access-Control-Allow-Origin", origin);
  return undefined;
}
