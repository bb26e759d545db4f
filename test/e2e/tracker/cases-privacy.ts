/**
 * The tracker in Chromium, what it keeps and sends nothing of: data-cookieless (no storage,
 * no client_id) and every opt-out (localhost, automation, GPC or DNT under data-dnt, excluded paths).
 * Cases only: tracker.test.ts runs them on the run harness.ts starts.
 */
import { expect } from "vitest";
import { arrived, type Case, clientIdOf, fixtures, open, settle, types } from "./harness.ts";

export const privacyCases: Record<string, Case> = {
  "08_cookieless": [
    "with data-cookieless keeps nothing in localStorage and sends no client_id; the edge derives one",
    async () => {
      const { page, collects } = await open();
      await page.goto(`${fixtures.origin}/08_cookieless/`);
      const rows = await arrived("/08_cookieless/", (r) => expect(r).toHaveLength(1));
      expect(await clientIdOf(page)).toBeNull();
      expect(await page.evaluate(() => localStorage.length)).toBe(0);
      expect(collects.flat().some((e) => "client_id" in (e as object))).toBe(false);
      expect(rows[0]).toMatchObject({ event_type: "pageview", visitor_id_source: "cookieless" });
      expect(rows[0]?.client_id).not.toBe("");
    },
  ],

  "09_opt_out": [
    "sends nothing on localhost, in automation, with GPC or DNT under data-dnt, or on excluded paths",
    async () => {
      const silent = [
        { path: "default.html" },
        { path: "automation.html" },
        {
          path: "dnt.html",
          init: () => Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true }),
        },
        { path: "dnt.html", init: () => Object.defineProperty(Navigator.prototype, "doNotTrack", { get: () => "1" }) },
        { path: "private/secret.html" },
      ];
      for (const { path, init } of silent) {
        const { page, requests } = await open({ init });
        await page.goto(`${fixtures.origin}/09_opt_out/${path}`);
        // tally() stays callable (a no-op), so a site's own calls never throw.
        await page.evaluate(() => (window as unknown as { tally: (name: string) => void }).tally("ignored"));
        await settle(page);
        expect(
          requests.map((r) => r.url()),
          path,
        ).toEqual([]);
      }
      // The same pages do track when nothing opts out: GPC/DNT absent, or a path not excluded.
      const control = await open();
      await control.page.goto(`${fixtures.origin}/09_opt_out/dnt.html`);
      const excluded = await open();
      await excluded.page.goto(`${fixtures.origin}/09_opt_out/private/secret.html`);
      await excluded.page.evaluate(() => history.pushState({}, "", "/09_opt_out/drafts/x/y"));
      await excluded.page.evaluate(() => history.pushState({}, "", "/09_opt_out/drafts/z"));
      await excluded.page.evaluate(() => history.pushState({}, "", "/09_opt_out/public"));
      const rows = await arrived("/09_opt_out/", (r) => expect(types(r, "pageview")).toHaveLength(3));
      expect(
        types(rows, "pageview")
          .map((r) => r.page_path)
          .sort(),
      ).toEqual(["/09_opt_out/dnt.html", "/09_opt_out/drafts/x/y", "/09_opt_out/public"]);
      // Nothing from the excluded pages, engagement included.
      expect(rows.filter((r) => /^\/09_opt_out\/(private\/|drafts\/z)/.test(r.page_path))).toEqual([]);
    },
  ],
};
