/**
 * What the dashboard's browser tests stand on: per test file, `npm run dev`'s stack on free ports
 * seeded through the API (goals, 14 days of imported history) and Debian's Chromium through
 * playwright-core; per test, a fresh browser context (empty storage: signed out, light theme, no
 * saved reports), so no test depends on another's page. Screenshots go to test-results/dashboard/.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect } from "vitest";
import { type DevStack, startDevStack } from "../../../dev/stack.ts";
import { DEMO_GOALS, ensureGoals, importHistory } from "../../../scripts/demo/traffic.ts";
import { CHROMIUM_PATH, launchChromium } from "../../support/chromium.ts";

const SHOTS = "test-results/dashboard";
const PROPERTY = "UA-DEMO-1";
export const UA =
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

export const number = new Intl.NumberFormat("en-US");
/** Waits for a value in the page: queries run on a shared 2-core machine, so allow them time. */
export const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

/** The file's stack and browser, and the current test's own context and page (set by the hooks). */
export interface Dashboard {
  stack: DevStack;
  browser: Browser;
  context: BrowserContext;
  page: Page;
}

/**
 * Registers the hooks: a stack (seeded with the demo property's goals and history unless `seeded` is
 * false) and a browser for the file; a fresh context and page for each test, signed in with the demo
 * property's API key when `signedIn` (else left on a blank page).
 */
export function setupDashboard({ signedIn, seeded = true }: { signedIn: boolean; seeded?: boolean }): Dashboard {
  const dash = {} as Dashboard;
  beforeAll(async () => {
    expect(existsSync(CHROMIUM_PATH), `Chromium is needed at ${CHROMIUM_PATH} (apt-get install -y chromium)`).toBe(
      true,
    );
    mkdirSync(SHOTS, { recursive: true });
    dash.stack = seeded ? await startSeededStack() : await startStack();
    dash.browser = await launchChromium();
  }, 180_000);
  afterAll(async () => {
    await dash.browser?.close();
    await dash.stack?.stop();
  });
  beforeEach(async () => {
    dash.context = await dash.browser.newContext({
      locale: "en-US",
      timezoneId: "UTC",
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
      colorScheme: "light",
    });
    dash.page = await dash.context.newPage();
    if (signedIn) await signIn(dash.page, dash.stack);
  });
  afterEach(async () => {
    await dash.context?.close();
  });
  return dash;
}

/** No Redis: the query cache stays inside this stack (a shared Redis would mix in other stacks' demo answers). */
const startStack = () => startDevStack({ env: { REDIS_URL: "redis://127.0.0.1:1" } });

async function startSeededStack(): Promise<DevStack> {
  const stack = await startStack();
  try {
    await seed(stack);
    return stack;
  } catch (error) {
    // The hooks stop only a stack they hold: one whose seeding failed would outlive the run.
    await stack.stop();
    throw error;
  }
}

async function seed(stack: DevStack): Promise<void> {
  const target = { url: stack.url, token: stack.demoKey, propertyId: PROPERTY };
  expect(await ensureGoals(target)).toBe(DEMO_GOALS.length);
  const imported = await importHistory(target, { days: 14, visitsPerDay: 30, seed: 7 });
  expect(imported.rejected).toBe(0);
  expect(imported.accepted).toBeGreaterThan(500);
  // The consumer writes in the background: wait until every event and the visits' sessions are stored.
  const deadline = Date.now() + 60_000;
  while ((await clickhouseCount(stack, "SELECT count() FROM events")) < imported.accepted && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 500));
  expect(await clickhouseCount(stack, "SELECT count() FROM events")).toBe(imported.accepted);
}

/** Signs in through the form as a person would, with the demo property's key, and waits for the overview's figures. */
export async function signIn(page: Page, stack: DevStack): Promise<void> {
  await page.goto(`${stack.url}/`);
  await signInWith(page, stack.demoKey, PROPERTY);
  await page.getByTestId("kpi-visitors").waitFor();
}

/** Opens a module of another property and signs in there with its key (the form shows for a property without one). */
export async function signInTo(
  page: Page,
  stack: DevStack,
  key: string,
  property: string,
  view: string,
): Promise<void> {
  await page.goto(`${stack.url}/?property=${encodeURIComponent(property)}&view=${view}`);
  await signInWith(page, key, property);
}

async function signInWith(page: Page, key: string, property: string): Promise<void> {
  await page.getByLabel("API key or admin token").fill(key);
  await page.getByLabel(/Property ID/).fill(property);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** The API's answer to a query, with the demo key unless `as` names another property's (what the dashboard must show). */
export async function apiQuery(
  stack: DevStack,
  spec: Record<string, unknown>,
  as: { property: string; token: string } = { property: PROPERTY, token: stack.demoKey },
): Promise<{ dimensions: string[]; metrics: number[] }[]> {
  const res = await fetch(`${stack.url}/api/v1/query`, {
    method: "POST",
    headers: { Authorization: `Bearer ${as.token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: as.property, date_range: "30d", ...spec }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { results: { dimensions: string[]; metrics: number[] }[] }).results;
}

export async function clickhouseCount(stack: DevStack, sql: string): Promise<number> {
  return Number((await stack.clickhouseText(`${sql} FORMAT TSV`)).trim());
}

export const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

export async function openModule(page: Page, label: string): Promise<void> {
  await page.getByRole("navigation", { name: "Reports" }).getByRole("link", { name: label, exact: true }).click();
}
