/**
 * Reaching the dashboard, in a real browser against `npm run dev`'s stack: the Worker serves the SPA
 * on client routes and keeps its own paths, a refused key is explained in words, and the demo
 * property's API key signs in to an overview showing the API's own figures. Each test starts signed
 * out in a fresh browser context.
 */
import { describe, expect, it } from "vitest";
import { apiQuery, number, poll, setupDashboard, shot } from "./support.ts";

const dash = setupDashboard({ signedIn: false });

describe("dashboard sign-in", () => {
  it("serves the SPA at / and any client route, while the Worker keeps its own paths", async () => {
    const { stack } = dash;
    const root = await fetch(`${stack.url}/`);
    expect(root.headers.get("content-type")).toContain("text/html");
    expect(await root.text()).toContain('<div id="root">');
    const deep = await fetch(`${stack.url}/reports/anything`, {
      headers: { "Sec-Fetch-Mode": "navigate", Accept: "text/html" },
    });
    expect(await deep.text()).toContain('<div id="root">');
    expect(await (await fetch(`${stack.url}/health`)).json()).toEqual({ status: "ok" });
    const api404 = await fetch(`${stack.url}/api/v1/nothing-here`);
    expect(api404.status).toBe(404);
    expect(((await api404.json()) as { error: { code: string } }).error.code).toBe("not_found");
  });

  it("explains a refused key in words instead of signing in", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API key or admin token").fill("tk_nope_notakey");
    await page.getByLabel(/Property ID/).fill("UA-DEMO-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await poll(() => alert.textContent()).toMatch(/not accepted|does not give access/);
    await shot(page, "01-login-refused");
  });

  it("signs in with the demo property's API key and shows the API's own figures on the overview", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API key or admin token").fill(stack.demoKey);
    await page.getByLabel(/Property ID/).fill("UA-DEMO-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    const [totals] = await apiQuery(stack, { metrics: ["visitors", "pageviews"] });
    expect(totals?.metrics[0]).toBeGreaterThan(0);
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(totals?.metrics[0] ?? -1));
    expect(await page.getByTestId("kpi-pageviews").textContent()).toBe(number.format(totals?.metrics[1] ?? -1));
    expect(new URL(page.url()).searchParams.get("property")).toBe("UA-DEMO-1");
    const pages = page.getByTestId("top-pages").locator("tbody tr");
    await poll(() => pages.count()).toBeGreaterThanOrEqual(5);
    await page.locator(".chart canvas").waitFor();
    await shot(page, "02-overview");
  });
});
