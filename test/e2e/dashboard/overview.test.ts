/**
 * The overview and what works across the dashboard, in a real browser against `npm run dev`'s
 * stack: filtering by a row (and sharing it), comparison, CSV export, empty and error states in
 * words, the dark theme, and the keyboard. Each test signs in on its own, in a fresh browser context.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { apiQuery, number, poll, setupDashboard, shot } from "./support.ts";

const dash = setupDashboard({ signedIn: true });

describe("dashboard overview", () => {
  it("filters the whole dashboard when a row is clicked: the URL holds the filter and the figures follow", async () => {
    const { context, page, stack } = dash;
    const before = await page.getByTestId("kpi-visitors").textContent();
    await page.getByTestId("top-devices").getByRole("button", { name: "mobile" }).click();
    await poll(() => new URL(page.url()).searchParams.get("filters")).toBe('[["is","visit:device",["mobile"]]]');
    const [mobile] = await apiQuery(stack, { metrics: ["visitors"], filters: [["is", "visit:device", ["mobile"]]] });
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(mobile?.metrics[0] ?? -1));
    expect(await page.getByTestId("kpi-visitors").textContent()).not.toBe(before);
    await poll(() => page.getByTestId("filters").textContent()).toContain("Device is mobile");
    await shot(page, "03-filtered");
    // A shared link opens the same view, once its reader has signed in (keys never travel in URLs).
    const shared = await context.newPage();
    await shared.goto(page.url());
    await shared.getByLabel("API key or admin token").fill(stack.adminToken);
    await shared.getByRole("button", { name: "Sign in" }).click();
    await poll(() => shared.getByTestId("kpi-visitors").textContent()).toBe(number.format(mobile?.metrics[0] ?? -1));
    expect(await shared.getByTestId("filters").textContent()).toContain("Device is mobile");
    await shared.close();
    await page.getByRole("button", { name: "Remove filter: Device is mobile" }).click();
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(before);
  });

  it("compares with the previous period: change figures and a second series appear", async () => {
    const { page, stack } = dash;
    await page.getByTestId("compare").selectOption("previous_period");
    await poll(() => new URL(page.url()).searchParams.get("compare")).toBe("previous_period");
    await page.getByTestId("date-range").selectOption("7d");
    const [now] = await apiQuery(stack, { metrics: ["visitors"], date_range: "7d", compare: "previous_period" });
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(now?.metrics[0] ?? -1));
    await poll(() => page.getByTestId("kpi-change-visitors").textContent()).toMatch(/^([+−±]\d|new)/);
    await poll(() => page.locator(".u-legend").textContent()).toContain("Comparison");
    await shot(page, "04-comparison");
  });

  it("exports a table as CSV with the API's numbers", async () => {
    const { page, stack } = dash;
    const [top] = await apiQuery(stack, { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], limit: 1 });
    const card = page.getByTestId("top-pages");
    await poll(() => card.locator("tbody tr").count()).toBeGreaterThan(0);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      card.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("top-pages.csv");
    const csv = readFileSync((await download.path()) ?? "", "utf8")
      .trim()
      .split("\r\n");
    expect(csv[0]).toBe("page,visitors,pageviews");
    expect(csv[1]).toBe(`${top?.dimensions[0]},${top?.metrics[0]},${top?.metrics[1]}`);
    expect(csv.length).toBeGreaterThan(5);
  });

  it("shows empty and error states in words", async () => {
    const { page, stack } = dash;
    await page.goto(
      `${stack.url}/?property=UA-DEMO-1&view=overview&filters=${encodeURIComponent('[["is","visit:country",["AQ"]]]')}`,
    );
    await poll(() => page.getByTestId("top-pages").textContent()).toContain("No data for this period");
    // Deep history answers (the warehouse, or ClickHouse while it has no frontier): empty, not an error.
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview&range=custom&from=2001-01-01&to=2001-01-31`);
    await poll(() => page.getByTestId("top-pages").textContent()).toContain("No data for this period");
    // A range that ends before it starts is refused by the API, and the dashboard says so.
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview&range=custom&from=2026-01-31&to=2026-01-01`);
    await poll(() => page.getByTestId("kpis").getByRole("alert").textContent()).toContain("could not answer");
    await shot(page, "11-error-state");
  });

  it("switches to the dark theme and keeps it after a reload", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview`);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.getByTestId("theme-toggle").click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    expect(await background()).not.toBe(light);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.getByTestId("kpi-visitors").waitFor();
    await shot(page, "13-dark");
  });

  it("works from the keyboard: skip link, module keys, tabs with arrows, rows with Enter", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview`);
    await page.getByTestId("kpi-visitors").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    await page.keyboard.press("3");
    await poll(() => new URL(page.url()).searchParams.get("view")).toBe("audience");
    const tab = page.getByTestId("locations").getByRole("tab", { name: "Countries" });
    await tab.focus();
    await page.keyboard.press("ArrowRight");
    await poll(() =>
      page.getByTestId("locations").getByRole("tab", { name: "Regions" }).getAttribute("aria-selected"),
    ).toBe("true");
    const firstRow = page.getByTestId("locations").locator("tbody .row-pick").first();
    await firstRow.focus();
    await page.keyboard.press("Enter");
    await poll(() => new URL(page.url()).searchParams.get("filters")).toContain("visit:region");
  });
});
