/**
 * CORS for the collect endpoints: only origins that belong to some property's domains are
 * answered. A preflight carries no body, so it is judged against every property's domains (the
 * registry's index, through the guarded domain lookup: cached, and limited per address); the POST
 * itself is judged against the event's own property.
 */
import type { Context, Next } from "hono";
import { couldBeHost } from "../../core/abuse.ts";
import { propertyForDomain } from "../../platform/properties.ts";
import { lookupGuard } from "../../platform/throttle.ts";

/** True when the origin's host (or a parent domain) is listed by some property; 429 past the address's lookups. */
export async function originKnown(env: Env, request: Request, origin: string): Promise<boolean> {
  if (!URL.canParse(origin)) return false;
  const host = new URL(origin).hostname.toLowerCase();
  if (!couldBeHost(host)) return false;
  return (await propertyForDomain(env, host, lookupGuard(env, request))) !== undefined;
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
    if (!origin || !(await originKnown(c.env, c.req.raw, origin))) return c.body(null, 403, { Vary: "Origin" });
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
  // The answer is already made: an origin over its lookup budget just gets no CORS header.
  if (origin && c.res.status !== 403 && (await originKnown(c.env, c.req.raw, origin).catch(() => false)))
    c.res.headers.set("Access-Control-Allow-Origin", origin);
  return undefined;
}
