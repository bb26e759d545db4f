/**
 * The tracker in a real browser (issue #6): Debian's Chromium through playwright-core opens the
 * fixture pages of each numbered folder (served from http://localhost:<port>, a domain of the demo
 * property), which load /t.js from the dev stack's Worker; what arrives in ClickHouse is asserted.
 * One dev stack and one browser serve the whole file; every case gets a fresh browser context
 * (fresh localStorage, so a fresh client_id).
 */
import { readdirSync } from "node:fs";
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { Browser, BrowserContext, BrowserContextOptions, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it, onTestFailed, vi } from "vitest";
import { type DevStack, startDevStack } from "../../../dev/stack.ts";
import { TRACKER_CODE, TRACKER_SRI, TRACKER_VERSION } from "../../../web/tracker/tracker.gen.ts";
import {
  clickhouse,
  type EventRow,
  eventsUnder,
  FIXTURES,
  type FixtureServer,
  launchChromium,
  sortedTypes,
  startFixtureServer,
} from "./support.ts";

let stack: DevStack;
let browser: Browser;
let fixtures: FixtureServer;
let ch: ClickHouseClient;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  [stack, browser] = await Promise.all([startDevStack(), launchChromium()]);
  fixtures = await startFixtureServer({ WORKER: stack.url, VERSION: TRACKER_VERSION, SRI: TRACKER_SRI });
  ch = clickhouse(stack.clickhouseUrl);
  // 10_hash_routing: a property that keeps #/routes in page_path (the edge decides that per property).
  const res = await fetch(`${stack.url}/api/v1/properties`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify({
      property_id: "UA-HASH-1",
      name: "Hash routing",
      domains: ["localhost"],
      hash_routing: true,
    }),
  });
  expect(res.status, await res.text()).toBe(201);
}, 120_000);

afterAll(async () => {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await fixtures?.close();
  await stack?.stop();
});

/** A fresh context and page; `collects` gathers the bodies of the page's requests to /collect. */
async function open(options: BrowserContextOptions & { init?: () => void } = {}) {
  const { init, ...contextOptions } = options;
  const context = await browser.newContext(contextOptions);
  contexts.push(context);
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const collects: unknown[][] = [];
  const requests: Request[] = [];
  const log: string[] = [];
  page.on("request", (r) => {
    if (r.url() !== `${stack.url}/collect`) return;
    requests.push(r);
    collects.push(JSON.parse(r.postData() ?? "[]"));
  });
  // What the page saw, printed only when the case fails.
  page.on("console", (m) => log.push(`console ${m.type()}: ${m.text()}`));
  page.on("requestfailed", (r) => log.push(`failed ${r.url()}: ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.url().startsWith(stack.url)) log.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  onTestFailed(() => console.log(`page log:\n${log.join("\n")}\n/collect bodies: ${JSON.stringify(collects)}`));
  return { context, page, collects, requests };
}

/** Polls ClickHouse until the rows under `prefix` satisfy `check` (the consumer batches for ~1 s). */
async function arrived(prefix: string, check: (rows: EventRow[]) => void, timeout = 20_000): Promise<EventRow[]> {
  let rows: EventRow[] = [];
  await vi.waitFor(
    async () => {
      rows = await eventsUnder(ch, prefix);
      check(rows);
    },
    { timeout, interval: 250 },
  );
  return rows;
}

const clientIdOf = (page: Page) => page.evaluate(() => localStorage.getItem("tally_id"));
const types = (rows: EventRow[], type: string) => rows.filter((r) => r.event_type === type);
/** Lets timers due within `ms` run: the tracker batches for 500 ms before it sends. */
const settle = (page: Page, ms = 1_500) => page.waitForTimeout(ms);

type Case = [behaviour: string, run: () => Promise<void>];

const cases: Record<string, Case> = {
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

  "07_batching": [
    "sends a burst of 25 events as 20 + 5 in two requests, every event once",
    async () => {
      const { page, collects } = await open();
      await page.goto(`${fixtures.origin}/07_batching/`);
      const clientId = await clientIdOf(page);
      await arrived("/07_batching/", (r) => expect(r.filter((e) => e.client_id === clientId)).toHaveLength(1));
      await page.click("#burst");
      const rows = await arrived("/07_batching/", (r) =>
        expect(types(r, "burst").filter((e) => e.client_id === clientId)).toHaveLength(25),
      );
      const bursts = collects.filter((body) => body.some((e) => (e as { event_type: string }).event_type === "burst"));
      expect(bursts.map((body) => body.length)).toEqual([20, 5]);
      const sentIds = bursts.flat().map((e) => (e as { event_id: string }).event_id);
      const storedIds = types(rows, "burst")
        .filter((e) => e.client_id === clientId)
        .map((e) => e.event_id);
      expect(new Set(storedIds).size).toBe(25);
      expect(storedIds.sort()).toEqual(sentIds.sort());
      expect(
        types(rows, "burst")
          .map((r) => r.custom_metrics.i ?? -1)
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 25 }, (_, i) => i));
    },
  ],

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

  "11_sri": [
    "loads from the pinned URL under the documented integrity hash, and not at all under a wrong one",
    async () => {
      const pinned = await open();
      await pinned.page.goto(`${fixtures.origin}/11_sri/`);
      const rows = await arrived("/11_sri/", (r) => expect(r).toHaveLength(1));
      expect(rows[0]).toMatchObject({ event_type: "pageview", page_path: "/11_sri/" });
      const tampered = await open();
      await tampered.page.goto(`${fixtures.origin}/11_sri/tampered.html`);
      await settle(tampered.page);
      expect(await tampered.page.evaluate(() => "tally" in window)).toBe(false);
      expect(tampered.requests).toEqual([]);
    },
  ],

  "12_retry": [
    "resends a batch whose answer was lost, or that got a 503, with the same event_ids, stored once",
    async () => {
      for (const failure of ["answer lost", "503"] as const) {
        const { context, page, collects } = await open();
        let intercepted = 0;
        await context.route(`${stack.url}/collect`, async (route) => {
          if (intercepted++ > 0) return route.continue();
          if (failure === "503") return route.fulfill({ status: 503, body: "{}" });
          // The Worker accepts the events, but the page never hears it.
          expect((await route.fetch()).status()).toBe(202);
          return route.abort("connectionreset");
        });
        await page.goto(`${fixtures.origin}/12_retry/?${failure === "503" ? "b" : "a"}`);
        await vi.waitFor(() => expect(collects, failure).toHaveLength(2), { timeout: 10_000 });
        expect(collects[1], failure).toEqual(collects[0]);
        const clientId = await clientIdOf(page);
        const mine = (rows: EventRow[]) => rows.filter((r) => r.client_id === clientId);
        await arrived("/12_retry/", (rows) => expect(mine(rows)).toHaveLength(1));
        await settle(page, 2_500);
        const rows = mine(await eventsUnder(ch, "/12_retry/"));
        expect(
          rows.map((r) => r.event_id),
          failure,
        ).toEqual([(collects[0]?.[0] as { event_id?: string } | undefined)?.event_id]);
      }
    },
  ],
};

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
