/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against `npm run dev`'s
 * stack on free ports, seeded through the API (goals, 14 days of imported history): sign-in, every
 * module showing the API's own figures, filtering by a row, comparison, the live counter rising when
 * an event arrives, CSV export, the dark theme, the keyboard, and errors in words. Screenshots go to
 * test-results/dashboard/.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevStack, startDevStack } from "../../../dev/stack.ts";
import { ensureGoals, importHistory, sendLive } from "../../../scripts/demo/traffic.ts";

const SHOTS = "test-results/dashboard";
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

let stack: DevStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const number = new Intl.NumberFormat("en-US");
/** Waits for a value in the page: queries run on a shared 2-core machine, so allow them time. */
const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

/** The API's answer to a query, with the demo key (what the dashboard must show). */
async function apiQuery(spec: Record<string, unknown>): Promise<{ dimensions: string[]; metrics: number[] }[]> {
  const res = await fetch(`${stack.url}/api/v1/query`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.demoKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: "UA-DEMO-1", date_range: "30d", ...spec }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { dimensions: string[]; metrics: number[] }[] }).results;
}

async function clickhouseCount(sql: string): Promise<number> {
  const res = await fetch(`${stack.clickhouseUrl}/?query=${encodeURIComponent(`${sql} FORMAT TSV`)}`);
  return Number((await res.text()).trim());
}

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const openModule = async (label: string) => {
  await page.getByRole("navigation", { name: "Reports" }).getByRole("link", { name: label, exact: true }).click();
};

beforeAll(async () => {
  expect(existsSync(CHROMIUM), `Chromium is needed at ${CHROMIUM} (apt-get install -y chromium)`).toBe(true);
  mkdirSync(SHOTS, { recursive: true });
  // No Redis: the query cache stays inside this stack (a shared Redis would mix in other stacks' demo answers).
  stack = await startDevStack({ env: { REDIS_URL: "redis://127.0.0.1:1" } });
  const target = { url: stack.url, token: stack.demoKey, propertyId: "UA-DEMO-1" };
  expect(await ensureGoals(target)).toBe(3);
  const imported = await importHistory(target, { days: 14, visitsPerDay: 30, seed: 7 });
  expect(imported.rejected).toBe(0);
  expect(imported.accepted).toBeGreaterThan(500);
  // The consumer writes in the background: wait until every event and the visits' sessions are stored.
  const deadline = Date.now() + 60_000;
  while ((await clickhouseCount("SELECT count() FROM events")) < imported.accepted && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 500));
  expect(await clickhouseCount("SELECT count() FROM events")).toBe(imported.accepted);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  context = await browser.newContext({
    locale: "en-US",
    timezoneId: "UTC",
    acceptDownloads: true,
    viewport: { width: 1280, height: 900 },
    colorScheme: "light",
  });
  page = await context.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe("dashboard", () => {
  it("serves the SPA at / and any client route, while the Worker keeps its own paths", async () => {
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
    await page.goto(`${stack.url}/`);
    await page.getByLabel("API key or admin token").fill("tk_nope_notakey");
    await page.getByLabel(/Property ID/).fill("UA-DEMO-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");
    await poll(() => alert.textContent()).toMatch(/not accepted|does not give access/);
    await shot("01-login-refused");
  });

  it("signs in with the demo property's API key and shows the API's own figures on the overview", async () => {
    await page.getByLabel("API key or admin token").fill(stack.demoKey);
    await page.getByLabel(/Property ID/).fill("UA-DEMO-1");
    await page.getByRole("button", { name: "Sign in" }).click();
    const [totals] = await apiQuery({ metrics: ["visitors", "pageviews"] });
    expect(totals?.metrics[0]).toBeGreaterThan(0);
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(totals?.metrics[0] ?? -1));
    expect(await page.getByTestId("kpi-pageviews").textContent()).toBe(number.format(totals?.metrics[1] ?? -1));
    expect(new URL(page.url()).searchParams.get("property")).toBe("UA-DEMO-1");
    const pages = page.getByTestId("top-pages").locator("tbody tr");
    await poll(() => pages.count()).toBeGreaterThanOrEqual(5);
    await page.locator(".chart canvas").waitFor();
    await shot("02-overview");
  });

  it("filters the whole dashboard when a row is clicked: the URL holds the filter and the figures follow", async () => {
    const before = await page.getByTestId("kpi-visitors").textContent();
    await page.getByTestId("top-devices").getByRole("button", { name: "mobile" }).click();
    await poll(() => new URL(page.url()).searchParams.get("filters")).toBe('[["is","visit:device",["mobile"]]]');
    const [mobile] = await apiQuery({ metrics: ["visitors"], filters: [["is", "visit:device", ["mobile"]]] });
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(mobile?.metrics[0] ?? -1));
    expect(await page.getByTestId("kpi-visitors").textContent()).not.toBe(before);
    await poll(() => page.getByTestId("filters").textContent()).toContain("Device is mobile");
    await shot("03-filtered");
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
    await page.getByTestId("compare").selectOption("previous_period");
    await poll(() => new URL(page.url()).searchParams.get("compare")).toBe("previous_period");
    await page.getByTestId("date-range").selectOption("7d");
    const [now] = await apiQuery({ metrics: ["visitors"], date_range: "7d", compare: "previous_period" });
    await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(now?.metrics[0] ?? -1));
    await poll(() => page.getByTestId("kpi-change-visitors").textContent()).toMatch(/^([+−±]\d|new)/);
    await poll(() => page.locator(".u-legend").textContent()).toContain("Comparison");
    await shot("04-comparison");
    await page.getByTestId("compare").selectOption("");
    await page.getByTestId("date-range").selectOption("30d");
  });

  it("exports a table as CSV with the API's numbers", async () => {
    const [top] = await apiQuery({ metrics: ["visitors", "pageviews"], dimensions: ["event:page"], limit: 1 });
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

  it("opens Audience with countries from the imported history on the map and in the table", async () => {
    await openModule("Audience");
    const countries = await apiQuery({ metrics: ["visitors"], dimensions: ["visit:country"], limit: 3 });
    const table = page.getByTestId("locations");
    await poll(() => table.locator("tbody tr").first().textContent()).toContain("United States");
    expect(countries[0]?.dimensions[0]).toBe("US");
    await poll(() => page.locator("svg.world circle.bubble").count()).toBeGreaterThanOrEqual(5);
    await poll(() => page.getByTestId("software").locator("tbody tr").count()).toBeGreaterThan(2);
    await shot("05-audience");
  });

  it("opens Acquisition with channels, sources and UTM campaigns", async () => {
    await openModule("Acquisition");
    await poll(() => page.getByTestId("channels").textContent()).toContain("Organic Search");
    await poll(() => page.getByTestId("sources").textContent()).toContain("Google");
    await poll(() => page.getByTestId("campaigns").textContent()).toContain("november-launch");
    await shot("06-acquisition");
  });

  it("opens Behavior with pages, custom events and an event's property values", async () => {
    await openModule("Behavior");
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
    await shot("07-behavior");
  });

  it("opens Conversions with goals, a funnel with drop-off and retention cohorts", async () => {
    await openModule("Conversions");
    const goals = page.getByTestId("goals");
    await poll(() => goals.locator("tbody").textContent()).toContain("Signup");
    await poll(() => page.getByTestId("funnel").locator("li").count()).toBeGreaterThanOrEqual(2);
    await poll(() => page.getByTestId("funnel").textContent()).toContain("dropped off");
    await poll(() => page.getByTestId("retention").locator("tbody tr").count()).toBeGreaterThanOrEqual(2);
    await shot("08-conversions");
  });

  it("runs a custom report over the query API and saves it", async () => {
    await openModule("Custom reports");
    await page.getByRole("button", { name: "Run report" }).click();
    await poll(() => page.getByTestId("custom-results").locator("tbody tr").count()).toBeGreaterThan(3);
    expect(JSON.parse(new URL(page.url()).searchParams.get("report") ?? "{}").dimensions).toEqual(["event:page"]);
    await page.getByPlaceholder("Name this report").fill("Pages by visitors");
    await page.getByRole("button", { name: "Save report" }).click();
    await poll(() => page.getByTestId("saved-reports").textContent()).toContain("Pages by visitors");
    await shot("09-custom-report");
  });

  it("opens Bot traffic with what was filtered, by reason", async () => {
    await openModule("Bot traffic");
    const bots = await clickhouseCount("SELECT countIf(is_bot) FROM events");
    expect(bots).toBeGreaterThan(0);
    await poll(() => page.getByTestId("bot-events").textContent()).toBe(number.format(bots));
    await poll(() => page.getByTestId("bot-summary").textContent()).toMatch(/ua_crawler|headless/);
    await shot("10-bots");
  });

  it("shows empty and error states in words", async () => {
    await page.goto(
      `${stack.url}/?property=UA-DEMO-1&view=overview&filters=${encodeURIComponent('[["is","visit:country",["AQ"]]]')}`,
    );
    await poll(() => page.getByTestId("top-pages").textContent()).toContain("No data for this period");
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview&range=custom&from=2001-01-01&to=2001-01-31`);
    await poll(() => page.getByTestId("kpis").getByRole("alert").textContent()).toContain("not available");
    await shot("11-error-state");
  });

  it("raises the live counter over the WebSocket when an event is sent", async () => {
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
    await shot("12-realtime");
  });

  it("switches to the dark theme and keeps it after a reload", async () => {
    await page.goto(`${stack.url}/?property=UA-DEMO-1&view=overview`);
    const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const light = await background();
    await page.getByTestId("theme-toggle").click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    expect(await background()).not.toBe(light);
    await page.reload();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await page.getByTestId("kpi-visitors").waitFor();
    await shot("13-dark");
    await page.getByTestId("theme-toggle").click();
  });

  it("works from the keyboard: skip link, module keys, tabs with arrows, rows with Enter", async () => {
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
