/**
 * GET /t.js and its pinned twin (workers/tracker/route.ts), through Hono with no server: the
 * bytes, the caching headers, ETag revalidation and the SRI value.
 */
import { describe, expect, it } from "vitest";
import { TRACKER_CODE, TRACKER_SRI, TRACKER_VERSION } from "../../web/tracker/tracker.gen.ts";
import { etagMatches, PINNED_CACHE, TRACKER_CACHE, TRACKER_ETAG, trackerRoutes } from "../../workers/tracker/route.ts";

describe("GET /t.js", () => {
  it("serves the tracker as JavaScript with an ETag, an hour's cache and a week of stale-while-revalidate", async () => {
    const res = await trackerRoutes.request("/t.js");
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(TRACKER_CODE);
    const names = [
      "content-type",
      "cache-control",
      "etag",
      "cross-origin-resource-policy",
      "access-control-allow-origin",
      "x-content-type-options",
    ];
    expect(Object.fromEntries(names.map((name) => [name, res.headers.get(name)]))).toEqual({
      "content-type": "application/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600, stale-while-revalidate=604800",
      etag: `"${TRACKER_VERSION}"`,
      "cross-origin-resource-policy": "cross-origin",
      "access-control-allow-origin": "*",
      "x-content-type-options": "nosniff",
    });
    expect(TRACKER_CACHE).toBe(res.headers.get("cache-control"));
  });

  it("answers 304 without a body when If-None-Match names the current ETag, weak or in a list", async () => {
    for (const tag of [TRACKER_ETAG, `W/${TRACKER_ETAG}`, `"old", ${TRACKER_ETAG}`, "*"]) {
      const res = await trackerRoutes.request("/t.js", { headers: { "If-None-Match": tag } });
      expect(res.status, tag).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(TRACKER_ETAG);
      expect(res.headers.get("cache-control")).toBe(TRACKER_CACHE);
    }
  });

  it("sends the new code when the browser holds an older version", async () => {
    const res = await trackerRoutes.request("/t.js", { headers: { "If-None-Match": '"0000000000000000"' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(TRACKER_CODE);
  });
});

describe("GET /t.js?v=<version>", () => {
  it("serves the current build as immutable for a year", async () => {
    const res = await trackerRoutes.request(`/t.js?v=${TRACKER_VERSION}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(TRACKER_CODE);
    expect(res.headers.get("cache-control")).toBe(PINNED_CACHE);
    expect(PINNED_CACHE).toBe("public, max-age=31536000, immutable");
  });

  it("does not serve other versions", async () => {
    expect((await trackerRoutes.request("/t.js?v=0123456789abcdef")).status).toBe(404);
    expect((await trackerRoutes.request("/t.js?v=")).status).toBe(404);
  });
});

describe("GET /t.js.sri", () => {
  it("answers the integrity value", async () => {
    const res = await trackerRoutes.request("/t.js.sri");
    expect(await res.text()).toBe(TRACKER_SRI);
  });
});

describe("etagMatches", () => {
  it.each([
    [undefined, false],
    ['"a"', true],
    ['W/"a"', true],
    ['"b", "a"', true],
    ['"b"', false],
    ["*", true],
  ])("%s → %s", (header, expected) => {
    expect(etagMatches(header, '"a"')).toBe(expected);
  });
});
