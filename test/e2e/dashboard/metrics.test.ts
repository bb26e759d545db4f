/**
 * Issue #15's metrics in the dashboard, in a real browser against `npm run dev`'s stack, on a property
 * whose every event is known (metrics-traffic.ts): revenue per goal in the property's currency (and the
 * currency left out, on request), time on page and scroll depth per page, exit rate, and new vs
 * returning visits in Audience. Each figure asserted is worked out by hand from that traffic, and the
 * API is asked too, so a wrong number says which side is wrong.
 */

import { readFileSync } from "node:fs";
import type { Locator } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { EXPECTED, METRICS_PROPERTY, seedMetricsProperty } from "./metrics-traffic.ts";
import { apiQuery, poll, setupDashboard, shot, signInTo } from "./support.ts";

const dash = setupDashboard({ signedIn: false, seeded: false });
const as = () => ({ property: METRICS_PROPERTY, token: key });
let key = "";

beforeAll(async () => {
  key = await seedMetricsProperty(dash.stack);
}, 120_000);

/** The text of each cell of the table row whose key is `rowKey`. */
async function cells(table: Locator, rowKey: string): Promise<string[]> {
  return table.locator(`tbody tr[data-key="${rowKey}"] > *`).allTextContents();
}

describe("dashboard metrics (issue #15)", () => {
  it("shows each goal's revenue in the property's currency, and another currency when picked", async () => {
    const { page, stack } = dash;
    await signInTo(page, stack, key, METRICS_PROPERTY, "conversions");
    const goals = page.getByTestId("goals");
    await poll(() => goals.locator("thead").textContent()).toContain("Average revenue");
    const [purchase] = await apiQuery(
      stack,
      { metrics: ["total_revenue", "average_revenue"], filters: [["is", "event:goal", ["Purchase"]]] },
      as(),
    );
    expect(purchase?.metrics).toEqual([EXPECTED.purchase.total, EXPECTED.purchase.average]);
    expect(await cells(goals, "Purchase")).toEqual(EXPECTED.purchase.cells);
    expect(await cells(goals, "Signup")).toEqual(EXPECTED.signup.cells);
    await poll(() => page.getByTestId("revenue-note").textContent()).toContain("USD are not converted");
    await shot(page, "14-goal-revenue");
    // The CSV carries the amounts as numbers, in the currency shown.
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      goals.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    const csv = readFileSync((await download.path()) ?? "", "utf8")
      .trim()
      .split("\r\n");
    expect(csv[0]).toBe("Goal,visitors,events,conversion_rate,total_revenue,average_revenue");
    expect(csv.find((line) => line.startsWith("Purchase,"))).toMatch(EXPECTED.purchase.csv);
    await page.getByTestId("revenue-currency").selectOption("USD");
    await poll(() => new URL(page.url()).searchParams.get("currency")).toBe("USD");
    await poll(() => cells(goals, "Purchase")).toEqual(EXPECTED.purchaseUsd.cells);
  });

  it("shows time on page and scroll depth per page, and exit rate per exit page", async () => {
    const { page, stack } = dash;
    await signInTo(page, stack, key, METRICS_PROPERTY, "behavior");
    const pages = page.getByTestId("pages");
    await poll(() => pages.locator("thead").textContent()).toContain("Scroll depth");
    const [pricing] = await apiQuery(
      stack,
      {
        metrics: ["time_on_page", "scroll_depth"],
        dimensions: ["event:page"],
        filters: [["is", "event:page", ["/pricing"]]],
      },
      as(),
    );
    expect(pricing?.metrics).toEqual([EXPECTED.pricing.seconds, EXPECTED.pricing.scroll]);
    await poll(() => cells(pages, "/pricing")).toEqual(EXPECTED.pricing.cells);
    expect(await cells(pages, "/checkout")).toEqual(EXPECTED.checkout.cells);
    await shot(page, "15-page-engagement");
    await pages.getByRole("tab", { name: "Exit pages" }).click();
    await poll(() => pages.locator("thead").textContent()).toContain("Exit rate");
    await poll(() => cells(pages, "/pricing")).toEqual(EXPECTED.exitPricing.cells);
  });

  it("shows new and returning visits in Audience, and filters the dashboard by one", async () => {
    const { page, stack } = dash;
    await signInTo(page, stack, key, METRICS_PROPERTY, "audience");
    const card = page.getByTestId("visitor-types");
    await poll(() => cells(card, "new")).toEqual(EXPECTED.newVisits.cells);
    expect(await cells(card, "returning")).toEqual(EXPECTED.returningVisits.cells);
    expect(await card.getByTestId("visitor-type-split").textContent()).toBe(EXPECTED.split);
    const types = await apiQuery(
      stack,
      {
        metrics: ["visitors", "visits"],
        dimensions: ["visit:visitor_type"],
        order_by: [["visit:visitor_type", "asc"]],
      },
      as(),
    );
    expect(types).toEqual([
      { dimensions: ["new"], metrics: [3, 3] },
      { dimensions: ["returning"], metrics: [1, 1] },
    ]);
    await shot(page, "16-visitor-types");
    await page.getByTestId("theme-toggle").click();
    await shot(page, "17-visitor-types-dark");
    await card.getByRole("button", { name: "Returning" }).click();
    await poll(() => new URL(page.url()).searchParams.get("filters")).toBe(
      '[["is","visit:visitor_type",["returning"]]]',
    );
    await poll(() => page.getByTestId("filters").textContent()).toContain("Visitor type is Returning");
    await poll(() => card.locator("tbody tr").count()).toBe(1);
  });
});
