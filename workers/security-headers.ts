/**
 * Protective headers on every response the Worker makes (the API's JSON, its errors and 404s,
 * /collect, /t.js, /health). The dashboard's static assets never pass through the Worker: theirs
 * come from the `_headers` file its build writes (web/dashboard/vite.config.ts).
 *
 * Nothing here touches CORS or Cross-Origin-Resource-Policy: /t.js and /collect are used by other
 * sites, and the routes set those themselves. A header a route set is kept.
 */
import type { MiddlewareHandler } from "hono";

/**
 * The Worker answers JSON, text and one script, never a page: nothing may load from its answers, frame
 * them, or be sniffed into another type.
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "X-Frame-Options": "DENY",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

function addMissing(headers: Headers, wanted: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(wanted)) if (!headers.has(name)) headers.set(name, value);
}

/** Hono middleware: adds the headers a response lacks, after the route (or the error shell) answered. */
export function securityHeaders(wanted: Readonly<Record<string, string>> = API_SECURITY_HEADERS): MiddlewareHandler {
  return async function securityHeaders(c, next) {
    await next();
    // A WebSocket upgrade is the actor's own 101: browsers read no such headers on it.
    if (c.res.status === 101) return;
    try {
      addMissing(c.res.headers, wanted);
    } catch {
      // A response fetched from elsewhere (an actor's) has immutable headers: answer with a copy.
      const copy = new Response(c.res.body, c.res);
      addMissing(copy.headers, wanted);
      c.res = copy;
    }
  };
}
