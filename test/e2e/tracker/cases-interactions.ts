/**
 * The tracker in Chromium, what a visitor does on a page: outbound link and download
 * clicks, custom events queued before and after the script loaded, and engagement (visible time,
 * scroll depth) on hide and on pagehide.
 * Cases only: tracker.test.ts runs them on the run harness.ts starts.
 */
import { expect } from "vitest";
import { arrived, type Case, ch, fixtures, open, settle, types } from "./harness.ts";
import { eventsUnder, sortedTypes } from "./support.ts";

export const interactionsCases: Record<string, Case> = {
  "03_outbound": [
    "reports left and middle clicks on links to other sites as outbound_link with the URL, internal links not",
    async () => {
      const { page } = await open();
      await page.goto(`${fixtures.origin}/03_outbound/`);
      await page.click("#inside");
      await page.waitForURL("**/03_outbound/inside.html");
      await page.click("#out span", { button: "middle" });
      await page.click("#out span");
      const target = `${fixtures.other}/03_outbound/landed.html?from=inside`;
      await page.waitForURL(target);
      const rows = await arrived("/03_outbound/", (r) => expect(types(r, "outbound_link")).toHaveLength(2));
      expect(types(rows, "pageview").map((r) => r.page_path)).toEqual(["/03_outbound/", "/03_outbound/inside.html"]);
      for (const row of types(rows, "outbound_link"))
        expect(row).toMatchObject({ page_path: "/03_outbound/inside.html", custom_dimensions: { url: target } });
    },
  ],

  "04_downloads": [
    "reports a click on a file link as file_download with the URL; outbound links stay untracked without data-outbound",
    async () => {
      const { page } = await open();
      await page.goto(`${fixtures.origin}/04_downloads/`);
      // The outbound link first: had it been tracked, it would leave in the download's batch.
      await page.click("#elsewhere");
      const download = page.waitForEvent("download");
      await page.click("#report");
      await download;
      const rows = await arrived("/04_downloads/", (r) => expect(types(r, "file_download")).toHaveLength(1));
      expect(types(rows, "file_download")[0]?.custom_dimensions).toEqual({
        url: `${fixtures.origin}/04_downloads/report.pdf`,
      });
      expect(types(rows, "outbound_link")).toEqual([]);
    },
  ],

  "05_custom_events": [
    "sends tally() calls queued before the script loaded and made after, props split into dimensions and metrics",
    async () => {
      const { page } = await open();
      await page.goto(`${fixtures.origin}/05_custom_events/`);
      await page.click("#cta");
      const rows = await arrived("/05_custom_events/", (r) => expect(r).toHaveLength(3));
      expect(sortedTypes(rows)).toEqual(["cta_click", "pageview", "signup"]);
      expect(types(rows, "signup")[0]).toMatchObject({
        custom_dimensions: { plan: "pro" },
        custom_metrics: { seats: 3 },
      });
      expect(types(rows, "cta_click")[0]).toMatchObject({
        custom_dimensions: { position: "hero" },
        custom_metrics: {},
      });
    },
  ],

  "06_engagement": [
    "reports visible time and scroll depth when the page is hidden and again on pagehide",
    async () => {
      const { page } = await open({ viewport: { width: 800, height: 600 } });
      const opened = Date.now();
      await page.goto(`${fixtures.origin}/06_engagement/`);
      await arrived("/06_engagement/", (r) => expect(types(r, "pageview")).toHaveLength(1));
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
      await page.waitForTimeout(300);
      await page.evaluate(() => {
        Object.defineProperty(document, "hidden", { value: true, configurable: true });
        document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
      });
      const hiddenAt = Date.now();
      const first = await arrived("/06_engagement/", (r) => expect(types(r, "engagement")).toHaveLength(1));
      const metrics = types(first, "engagement")[0]?.custom_metrics;
      expect(metrics?.scroll_depth).toBe(100);
      expect(metrics?.engagement_ms).toBeGreaterThanOrEqual(300);
      expect(metrics?.engagement_ms).toBeLessThanOrEqual(hiddenAt - opened);
      // Visible again for a while, then leave: the unload's visibilitychange and pagehide send
      // (with keepalive, as the page goes) one more report.
      const shown = Date.now();
      await page.evaluate(() => {
        // Back to the browser's own document.hidden, which the unload below really turns hidden.
        Reflect.deleteProperty(document, "hidden");
        document.dispatchEvent(new Event("visibilitychange", { bubbles: true }));
      });
      await page.waitForTimeout(400);
      await page.click("#next");
      await page.waitForURL("**/06_engagement/next.html");
      const left = Date.now();
      await arrived("/06_engagement/", (r) => expect(types(r, "engagement")).toHaveLength(2));
      await settle(page);
      const rows = await eventsUnder(ch, "/06_engagement/");
      expect(types(rows, "engagement")).toHaveLength(2);
      const second = types(rows, "engagement").find((r) => r.event_id !== types(first, "engagement")[0]?.event_id);
      expect(second?.custom_metrics.engagement_ms).toBeGreaterThanOrEqual(400);
      expect(second?.custom_metrics.engagement_ms).toBeLessThanOrEqual(left - shown);
      expect(second?.custom_metrics.scroll_depth).toBe(100);
    },
  ],
};
