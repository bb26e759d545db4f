/**
 * The dashboard under its own protective headers (issue #17), in Chromium against `npm run dev`'s
 * stack: `wrangler dev` serves the build's `_headers`, the page signs in, draws data, runs its
 * hashed inline theme script and opens the live socket without a single CSP violation; it refuses
 * to be framed; and keys stay in sessionStorage unless "on this device" is ticked, sign-out clearing both.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { poll, setupDashboard, shot, signIn } from "./dashboard/support.ts";

const dash = setupDashboard({ signedIn: false });
const CREDENTIALS = "tally.credentials";

/** Records every CSP violation the page reports, from before its first script runs. */
async function watchViolations(page: Page): Promise<{ events: () => Promise<string[]>; console: string[] }> {
  const consoleLines: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) consoleLines.push(m.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    Object.assign(window, { __cspViolations: seen });
    document.addEventListener("securitypolicyviolation", (e) =>
      seen.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`),
    );
  });
  return {
    events: () => page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations),
    console: consoleLines,
  };
}

const stored = (page: Page) =>
  page.evaluate((key) => ({ session: sessionStorage.getItem(key), local: localStorage.getItem(key) }), CREDENTIALS);

describe("dashboard under its CSP", () => {
  it("is served with the build's headers by wrangler dev, and the API with the Worker's", async () => {
    const { stack } = dash;
    for (const path of ["/", "/reports/deep-link"]) {
      const res = await fetch(`${stack.url}${path}`, {
        headers: { Accept: "text/html", "Sec-Fetch-Mode": "navigate" },
      });
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, path).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options"), path).toBe("DENY");
      expect(res.headers.get("x-content-type-options"), path).toBe("nosniff");
    }
    // The rules file itself is read by the assets server, never served.
    expect(await (await fetch(`${stack.url}/_headers`)).text()).not.toContain("Content-Security-Policy");
    const api = await fetch(`${stack.url}/api/v1/properties`);
    expect(api.status).toBe(401);
    expect(api.headers.get("content-security-policy")).toContain("default-src 'none'");
  });

  it("signs in, shows data, runs the theme script and goes live on the socket with no CSP violation", async () => {
    const { page, stack } = dash;
    const violations = await watchViolations(page);
    const sockets: string[] = [];
    page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
    await signIn(page, stack);
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toMatch(/^[1-9][\d,]*$/);
    await page.locator(".chart canvas").waitFor();
    // Set only by index.html's inline script, which runs only if the CSP carries its hash.
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("light");
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=realtime`);
    await poll(() => page.getByTestId("live-status").textContent()).toBe("Live");
    expect(sockets).toContain("/ws/realtime");
    await shot(page, "csp-realtime");
    expect(await violations.events()).toEqual([]);
    expect(violations.console).toEqual([]);
  });

  it("renders every report module and the dark theme with no CSP violation", async () => {
    const { page, stack } = dash;
    const violations = await watchViolations(page);
    await signIn(page, stack);
    const links = page.getByRole("navigation", { name: "Reports" }).getByRole("link");
    const labels = await links.allTextContents();
    expect(labels.length).toBeGreaterThanOrEqual(6);
    for (const label of labels) {
      await links.getByText(label, { exact: true }).click();
      await page.waitForLoadState("networkidle");
    }
    await page.getByRole("button", { name: /theme/i }).first().click();
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.waitForLoadState("networkidle");
    expect(await violations.events()).toEqual([]);
    expect(violations.console).toEqual([]);
  });

  it("refuses to be shown in a frame", async () => {
    const { page, stack } = dash;
    const refusals: string[] = [];
    page.on("console", (m) => {
      if (/frame-ancestors|X-Frame-Options/i.test(m.text())) refusals.push(m.text());
    });
    await page.setContent(`<iframe src="${stack.url}/" width="400" height="300"></iframe>`);
    await poll(() => refusals.length).toBeGreaterThan(0);
    const framed = page.frames().find((f) => f !== page.mainFrame());
    expect(await framed?.locator("#root").count()).toBe(0);
  });

  it("keeps a key in sessionStorage only, unless kept on this device for 30 days; sign-out clears both", async () => {
    const { page, stack } = dash;
    await signIn(page, stack);
    const session = await stored(page);
    expect(session.local).toBeNull();
    expect(JSON.parse(session.session ?? "{}")).toMatchObject({
      keys: { "UA-DEMO-1": stack.demoKey },
      remember: false,
    });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key or admin token").waitFor();
    expect(await stored(page)).toEqual({ session: null, local: null });

    await page.getByLabel("API key or admin token").fill(stack.demoKey);
    await page.getByLabel(/Property ID/).fill("UA-DEMO-1");
    await page.getByLabel("Keep me signed in on this device").check();
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("kpi-visitors").waitFor();
    const kept = await stored(page);
    expect(kept.session).toBeNull();
    const remembered = JSON.parse(kept.local ?? "{}") as { remember: boolean; expires_at: number };
    expect(remembered.remember).toBe(true);
    expect(remembered.expires_at - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect(remembered.expires_at - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);

    // Another tab of this browser is signed in; once the date has passed, it is not.
    const other = await page.context().newPage();
    await other.goto(`${stack.url}/?property=UA-DEMO-1`);
    await other.getByTestId("kpi-visitors").waitFor();
    await other.evaluate((key) => {
      const entry = JSON.parse(localStorage.getItem(key) ?? "{}") as { expires_at: number };
      localStorage.setItem(key, JSON.stringify({ ...entry, expires_at: Date.now() - 1 }));
    }, CREDENTIALS);
    await other.reload();
    await other.getByLabel("API key or admin token").waitFor();
    expect(await stored(other)).toEqual({ session: null, local: null });
  });
});
