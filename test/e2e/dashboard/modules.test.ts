/**
 * Each report module in a real browser against `npm run dev`'s seeded stack, showing the API's (or
 * ClickHouse's) own figures: audience, acquisition, behavior, conversions, custom reports, bot
 * traffic, and real-time, whose counter rises over the WebSocket when an event arrives. Each test
 * signs in on its own, in a fresh browser context.
 */
import { describe, expect, it } from "vitest";
import { sendLive } from "../../../scripts/demo/traffic.ts";
import { apiQuery, clickhouseCount, number, openModule, poll, setupDashboard, shot, UA } from "./support.ts";

const dash = setupDashboard({ signedIn: true });

describe("dashboard modules", () => {
  it("opens Audience with countries from the imported history on the map and in the table", async () => {
    const { page, stack } = dash;
    await openModule(page, "Audience");
    const countries = await apiQuery(stack, { metrics: ["visitors"], dimensions: ["visit:country"], limit: 3 });
    const table = page.getByTestId("locations");
    await poll(() => table.locator("tbody tr").first().textContent()).toContain("United States");
    expect(countries[0]?.dimensions[0]).toBe("US");
    await poll(() => page.locator("svg.world circle.bubble").count()).toBeGreaterThanOrEqual(5);
    await poll(() => page.getByTestId("software").locator("tbody tr").count()).toBeGreaterThan(2);
    await shot(page, "05-audience");
  });

  it("opens Acquisition with channels, sources and UTM campaigns", async () => {
    const { page } = dash;
    await openModule(page, "Acquisition");
    await poll(() => page.getByTestId("channels").textContent()).toContain("Organic Search");
    await poll(() => page.getByTestId("sources").textContent()).toContain("Google");
    await poll(() => page.getByTestId("campaigns").textContent()).toContain("november-launch");
    await shot(page, "06-acquisition");
  });

  it("opens Behavior with pages, custom events and an event's property values", async () => {
    const { page } = dash;
    await openModule(page, "Behavior");
    await poll(() => page.getByTestId("pages").locator("tbody tr").count()).toBeGreaterThan(5);
    await poll(() => page.getByTestId("events").textContent()).toContain("signup");
    const props = page.getByTestId("event-props");
    await poll(() => props.locator("option").count()).toBeGreaterThanOrEqual(2);
    await props.getByLabel("Event").selectOption("signup");
    await props.getByLabel("Property key").fill("plan");
    await props.getByRole("button", { name: "Show values" }).click();
    await poll(() => props.locator("tbody").textContent()).toMatch(/free/);
    await page.getByTestId("pages").getByRole("tab", { name: "Entry pages" }).click();
    await poll(() => page.getByTestId("pages").locator("thead").textContent()).toContain("Bounce rate");
    await shot(page, "07-behavior");
  });

  it("opens Conversions with goals, a funnel with drop-off and retention cohorts", async () => {
    const { page } = dash;
    await openModule(page, "Conversions");
    const goals = page.getByTestId("goals");
    await poll(() => goals.locator("tbody").textContent()).toContain("Signup");
    await poll(() => page.getByTestId("funnel").locator("li").count()).toBeGreaterThanOrEqual(2);
    await poll(() => page.getByTestId("funnel").textContent()).toContain("dropped off");
    await poll(() => page.getByTestId("retention").locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await shot(page, "08-conversions");
  });

  it("runs a custom report over the query API and saves it for the team", async () => {
    const { page } = dash;
    await openModule(page, "Custom reports");
    await page.getByRole("button", { name: "Run report" }).click();
    await poll(() => page.getByTestId("custom-results").locator("tbody tr").count()).toBeGreaterThan(3);
    expect(JSON.parse(new URL(page.url()).searchParams.get("report") ?? "{}").dimensions).toEqual(["event:page"]);
    await page.getByPlaceholder("Name this report").fill("Pages by visitors");
    await page.getByRole("button", { name: "Save report" }).click();
    await poll(() => page.getByTestId("saved-reports").textContent()).toContain("Pages by visitors");
    // Saved on the server (not in this browser), under who saved it: here the demo property's API key.
    const saved = page.getByTestId("saved-report").filter({ hasText: "Pages by visitors" });
    expect(await saved.getByTestId("saved-meta").textContent()).toMatch(/^by key /);
    await shot(page, "09-custom-report");
  });

  it("opens Bot traffic with what was filtered, by reason", async () => {
    const { page, stack } = dash;
    await openModule(page, "Bot traffic");
    const bots = await clickhouseCount(stack, "SELECT countIf(is_bot) FROM events");
    expect(bots).toBeGreaterThan(0);
    await poll(() => page.getByTestId("bot-events").textContent()).toBe(number.format(bots));
    await poll(() => page.getByTestId("bot-summary").textContent()).toMatch(/ua_crawler|headless/);
    await shot(page, "10-bots");
  });

  it("raises the live counter over the WebSocket when an event is sent", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=realtime`);
    await poll(() => page.getByTestId("live-status").textContent()).toBe("Live");
    const before = Number((await page.getByTestId("live-visitors").textContent())?.replaceAll(",", ""));
    for (const id of ["live-a", "live-b"])
      expect(
        await sendLive(stack.url, "UA-DEMO-1", {
          event_type: "pageview",
          page_url: "https://example.com/live-now",
          client_id: `${id}-${crypto.randomUUID()}`,
          event_timestamp: new Date().toISOString(),
          user_agent: UA,
        }),
      ).toBe(true);
    await poll(
      async () => Number((await page.getByTestId("live-visitors").textContent())?.replaceAll(",", "")),
      20_000,
    ).toBe(before + 2);
    await poll(() => page.getByTestId("live-pages").textContent()).toContain("/live-now");
    await shot(page, "12-realtime");
  });
});
