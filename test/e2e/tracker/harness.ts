/**
 * The run the tracker's browser tests share: one dev stack, one Chromium and one fixture server for
 * the whole of tracker.test.ts (its hooks call startRun and stopRun), and the helpers each case
 * drives them with. `stack`, `fixtures` and `ch` are live bindings, set once the run has started.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { Browser, BrowserContext, BrowserContextOptions, Page, Request } from "playwright-core";
import { expect, onTestFailed, vi } from "vitest";
import { type DevStack, startDevStack } from "../../../dev/stack.ts";
import { TRACKER_SRI, TRACKER_VERSION } from "../../../web/tracker/tracker.gen.ts";
import { launchChromium } from "../../support/chromium.ts";
import { clickhouse, type EventRow, eventsUnder, type FixtureServer, startFixtureServer } from "./support.ts";

export let stack: DevStack;
export let fixtures: FixtureServer;
export let ch: ClickHouseClient;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** A fixture folder's case: the behaviour it proves (the test's name) and the steps that prove it. */
export type Case = [behaviour: string, run: () => Promise<void>];

/** Starts the dev stack and Chromium, serves the fixtures, and creates the hash-routing property. */
export async function startRun(): Promise<void> {
  [stack, browser] = await Promise.all([startDevStack(), launchChromium()]);
  fixtures = await startFixtureServer({ WORKER: stack.url, VERSION: TRACKER_VERSION, SRI: TRACKER_SRI });
  ch = clickhouse(stack);
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
}

/** Closes every browser context, the browser, the fixture server and the dev stack. */
export async function stopRun(): Promise<void> {
  await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
  await browser?.close();
  await fixtures?.close();
  await stack?.stop();
}

/** A fresh context and page; `collects` gathers the bodies of the page's requests to /collect. */
export async function open(options: BrowserContextOptions & { init?: () => void } = {}) {
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
export async function arrived(
  prefix: string,
  check: (rows: EventRow[]) => void,
  timeout = 20_000,
): Promise<EventRow[]> {
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

/** The first-party client id the tracker keeps in localStorage. */
export const clientIdOf = (page: Page) => page.evaluate(() => localStorage.getItem("tally_id"));
/** The rows of one event type. */
export const types = (rows: EventRow[], type: string) => rows.filter((r) => r.event_type === type);
/** Lets timers due within `ms` run: the tracker batches for 500 ms before it sends. */
export const settle = (page: Page, ms = 1_500) => page.waitForTimeout(ms);
