/**
 * The tracker in Chromium, what counts as a page: the first pageview's facts, SPA
 * navigations (pushState, replaceState, popstate) and hash routes under data-hash.
 * Cases only: tracker.test.ts runs them on the run harness.ts starts.
 */
import { expect } from "vitest";
import { arrived, type Case, ch, clientIdOf, fixtures, open, settle, stack, types } from "./harness.ts";
import { type EventRow, eventsUnder } from "./support.ts";

export const navigationCases: Record<string, Case> = {
  "01_pageview": [
    "sends one pageview on load with the page's facts and a first-party client_id",
    async () => {
      const { page, requests } = await open({
        locale: "de-DE",
        viewport: { width: 1024, height: 700 },
        screen: { width: 1600, height: 900 },
      });
      const answered = page.waitForResponse(`${stack.url}/collect`);
      await page.goto(`${fixtures.origin}/01_pageview/`);
      expect((await answered).status()).toBe(202);
      // text/plain: a CORS-safelisted type, so no preflight before the POST.
      expect(requests[0]?.headers()["content-type"]).toMatch(/^text\/plain/);
      const clientId = await clientIdOf(page);
      expect(clientId).toMatch(/^[0-9a-z]+$/);
      await arrived("/01_pageview/", (rows) => expect(rows).toHaveLength(1));
      await settle(page);
      const rows = await eventsUnder(ch, "/01_pageview/");
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        event_type: "pageview",
        page_path: "/01_pageview/",
        page_url: `${fixtures.origin}/01_pageview/`,
        page_title: "Pageview fixture",
        referrer: "",
        client_id: clientId,
        visitor_id_source: "client",
        screen_resolution: "1600x900",
        viewport_size: "1024x700",
        language: "de-DE",
      });
    },
  ],

  "02_spa": [
    "counts pushState, replaceState and popstate navigations once per path, with engagement for each page left",
    async () => {
      const { page } = await open();
      const prefix = "/02_spa/";
      const pageviews = (n: number) => (rows: EventRow[]) => expect(types(rows, "pageview")).toHaveLength(n);
      await page.goto(`${fixtures.origin}${prefix}`);
      await arrived(prefix, pageviews(1));
      await page.evaluate(() => history.pushState({}, "", "/02_spa/pricing"));
      await arrived(prefix, pageviews(2));
      // Same path: a query change and a hash change (no hash routing here) are no new pages.
      await page.evaluate(() => history.replaceState({}, "", "/02_spa/pricing?tab=2"));
      await page.evaluate(() => {
        location.hash = "#plans";
      });
      await page.evaluate(() => history.replaceState({}, "", "/02_spa/signup"));
      await arrived(prefix, pageviews(3));
      // Back to the entry #plans made: /02_spa/pricing?tab=2, through popstate.
      await page.evaluate(() => history.back());
      const rows = await arrived(prefix, (r) => {
        pageviews(4)(r);
        expect(types(r, "engagement")).toHaveLength(3);
      });
      const paths = (type: string) => types(rows, type).map((r) => r.page_path);
      expect(paths("pageview").sort()).toEqual(["/02_spa/", "/02_spa/pricing", "/02_spa/pricing", "/02_spa/signup"]);
      // Engagement is reported under the page that was left, not the one navigated to.
      expect(paths("engagement").sort()).toEqual(["/02_spa/", "/02_spa/pricing", "/02_spa/signup"]);
      expect(new Set(rows.map((r) => r.client_id)).size).toBe(1);
      expect(new Set(rows.map((r) => r.session_id)).size).toBe(1);
    },
  ],

  "10_hash_routing": [
    "with data-hash counts hash routes as pages, kept in page_path by a hash-routing property",
    async () => {
      const { page } = await open();
      await page.goto(`${fixtures.origin}/10_hash_routing/#/home`);
      await arrived("/10_hash_routing/", (r) => expect(types(r, "pageview")).toHaveLength(1));
      await page.evaluate(() => {
        location.hash = "#/settings";
      });
      const rows = await arrived("/10_hash_routing/", (r) => expect(types(r, "pageview")).toHaveLength(2));
      expect(types(rows, "pageview").map((r) => r.page_path)).toEqual([
        "/10_hash_routing/#/home",
        "/10_hash_routing/#/settings",
      ]);
      expect(types(rows, "engagement").map((r) => r.page_path)).toEqual(["/10_hash_routing/#/home"]);
    },
  ],
};
