/**
 * The tracker in a real browser (issue #6): Debian's Chromium through playwright-core opens the
 * fixture pages of each numbered folder (served from http://localhost:<port>, a domain of the demo
 * property), which load /t.js from the dev stack's Worker; what arrives in ClickHouse is asserted.
 * One dev stack and one browser serve the whole file (harness.ts); every case gets a fresh browser
 * context (fresh localStorage, so a fresh client_id). The cases live in cases-*.ts by subject.
 */
import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRACKER_CODE, TRACKER_SRI, TRACKER_VERSION } from "../../../web/tracker/tracker.gen.ts";
import { deliveryCases } from "./cases-delivery.ts";
import { interactionsCases } from "./cases-interactions.ts";
import { navigationCases } from "./cases-navigation.ts";
import { privacyCases } from "./cases-privacy.ts";
import { type Case, stack, startRun, stopRun } from "./harness.ts";
import { FIXTURES } from "./support.ts";

beforeAll(startRun, 120_000);
afterAll(stopRun);

/** Every numbered folder's case, in folder order (the order they run in). */
const cases: Record<string, Case> = Object.fromEntries(
  Object.entries({ ...navigationCases, ...interactionsCases, ...privacyCases, ...deliveryCases }).sort(([a], [b]) =>
    a.localeCompare(b),
  ),
);

describe("the tracker in Chromium", () => {
  for (const [folder, [behaviour, run]] of Object.entries(cases)) it(`${folder}: ${behaviour}`, run);

  it("has a case for every numbered fixture folder", () => {
    const folders = readdirSync(FIXTURES).filter((name) => /^\d\d_/.test(name));
    expect(Object.keys(cases)).toEqual(folders.sort());
  });
});

describe("GET /t.js on the dev stack", () => {
  it("serves the built tracker with long-lived caching, an ETag and 304 on revalidation", async () => {
    const res = await fetch(`${stack.url}/t.js`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(TRACKER_CODE);
    expect(res.headers.get("content-type")).toBe("application/javascript; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=3600, stale-while-revalidate=604800");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    const etag = res.headers.get("etag");
    expect(etag).toBe(`"${TRACKER_VERSION}"`);
    const again = await fetch(`${stack.url}/t.js`, { headers: { "If-None-Match": etag ?? "" } });
    expect(again.status).toBe(304);
    const pinned = await fetch(`${stack.url}/t.js?v=${TRACKER_VERSION}`);
    expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await (await fetch(`${stack.url}/t.js.sri`)).text()).toBe(TRACKER_SRI);
  });
});
