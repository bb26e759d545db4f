/**
 * The tracker, served from the Worker itself (web/tracker, built into tracker.gen.ts):
 *
 * - `GET /t.js`: what sites embed. Cached an hour, then served stale for up to a week while the
 *   browser revalidates in the background (a 304 on the ETag): a returning visitor never waits for
 *   it, and a new release reaches each browser within about an hour of its next visit.
 * - `GET /t.js?v=<version>`: the same bytes under a content-addressed URL, cached for a year as
 *   immutable — the URL to pin with `integrity` (SRI). Only the current version is served there: a
 *   release retires the old URL (404), as SRI would refuse other bytes under it anyway. (A query,
 *   not `/t.<version>.js`, because wrangler.toml sends only `/t.js*` to the Worker before the
 *   dashboard's static assets.)
 * - `GET /t.js.sri`: the current `sha384-…` integrity value, as text.
 *
 * `Access-Control-Allow-Origin: *` because a cross-origin `<script integrity crossorigin>` is
 * fetched in CORS mode; `Cross-Origin-Resource-Policy: cross-origin` so sites that isolate
 * themselves (COEP) may still load it.
 */
import { type Context, Hono } from "hono";
import { TRACKER_CODE, TRACKER_SRI, TRACKER_VERSION } from "../../web/tracker/tracker.gen.ts";

export const TRACKER_ETAG = `"${TRACKER_VERSION}"`;
export const TRACKER_CACHE = "public, max-age=3600, stale-while-revalidate=604800";
export const PINNED_CACHE = "public, max-age=31536000, immutable";

// No bindings needed: the tracker is a constant of the build, so Node tests can mount this as is.
export const trackerRoutes = new Hono();

/** True when an If-None-Match list names this ETag (weak or strong, as a CDN may weaken it) or is `*`. */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

function serveTracker(c: Context, cacheControl: string): Response {
  const headers: Record<string, string> = {
    "Cache-Control": cacheControl,
    ETag: TRACKER_ETAG,
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
  };
  if (etagMatches(c.req.header("if-none-match"), TRACKER_ETAG)) return c.body(null, 304, headers);
  return c.body(TRACKER_CODE, 200, { ...headers, "Content-Type": "application/javascript; charset=utf-8" });
}

trackerRoutes.get("/t.js", (c) => {
  const version = c.req.query("v");
  if (version === undefined) return serveTracker(c, TRACKER_CACHE);
  if (version === TRACKER_VERSION) return serveTracker(c, PINNED_CACHE);
  return c.text(`tracker version ${version.slice(0, 32)} is not served; the current one is ${TRACKER_VERSION}`, 404);
});
trackerRoutes.get("/t.js.sri", (c) =>
  c.text(TRACKER_SRI, 200, { "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*" }),
);
