/**
 * The Operations page (issue #18) in Chromium against `npm run dev`'s stack: signed in with the
 * admin token it shows the readiness strip as `/readyz` answers it (ClickHouse ok) and an ingestion
 * tile that counts the events this test sends through /collect, as the metrics API counts them; the
 * range selector asks for its window; a property's API key sees neither the link nor the page.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { DevStack } from "../../../dev/stack.ts";
import { sendLive } from "../../../scripts/demo/traffic.ts";
import { poll, setupDashboard, shot, signIn, UA } from "./support.ts";

const dash = setupDashboard({ signedIn: false, seeded: false });
const PROPERTY = "UA-DEMO-1";

async function signInAsAdmin(page: Page, stack: DevStack): Promise<void> {
  await page.goto(`${stack.url}/?property=${PROPERTY}&view=operations`);
  await page.getByLabel("API key or admin token").fill(stack.adminToken);
  await page.getByLabel(/Property ID/).fill(PROPERTY);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByTestId("operations").waitFor();
}

/** Events accepted in the last hour, all routes, as the metrics API answers (what the tile must show). */
async function acceptedPerApi(stack: DevStack): Promise<number> {
  const res = await fetch(`${stack.url}/api/v1/ops/metrics?minutes=60`, {
    headers: { Authorization: `Bearer ${stack.adminToken}` },
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { counters: { name: string; total: number }[] };
  return body.counters.filter((c) => c.name === "events_accepted").reduce((n, c) => n + c.total, 0);
}

const shown = async (page: Page, testId: string) =>
  Number(((await page.getByTestId(testId).textContent()) ?? "").replaceAll(",", ""));

describe("Operations page", () => {
  it("shows readiness with ClickHouse ok and counts the events sent through /collect", async () => {
    const { page, stack } = dash;
    // Served under the dashboard's CSP (test/e2e/dashboard-csp.test.ts): the page must not trip it.
    const refusals: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refusals.push(m.text());
    });
    await signInAsAdmin(page, stack);
    const ready = (await (
      await fetch(`${stack.url}/readyz`, { headers: { Authorization: `Bearer ${stack.adminToken}` } })
    ).json()) as { checks: Record<string, { status: string }> };
    expect(ready.checks.clickhouse?.status).toBe("ok");
    await poll(() => page.getByTestId("ready-clickhouse").getAttribute("data-status")).toBe("ok");
    await expect.poll(() => page.getByTestId("ready-clickhouse").textContent()).toMatch(/ClickHouse.*ok/);
    // Every dependency /readyz names has its place in the strip.
    for (const name of Object.keys(ready.checks)) await page.getByTestId(`ready-${name}`).waitFor();

    const before = await acceptedPerApi(stack);
    const sent = 12;
    for (let i = 0; i < sent; i++)
      expect(
        await sendLive(stack.url, PROPERTY, {
          event_type: "pageview",
          page_url: `https://example.com/ops-${i}`,
          client_id: `ops-${crypto.randomUUID()}`,
          event_timestamp: new Date().toISOString(),
          user_agent: UA,
        }),
      ).toBe(true);
    // The page asks again on its 30 s timer or on "Refresh now"; the test does not wait for the timer.
    await poll(async () => {
      await page.getByRole("button", { name: "Refresh now" }).click();
      await page.getByTestId("ops-ingestion-value").waitFor();
      return shown(page, "ops-ingestion-value");
    }, 30_000).toBeGreaterThanOrEqual(before + sent);
    const onPage = await shown(page, "ops-ingestion-value");
    expect(onPage).toBeLessThanOrEqual(await acceptedPerApi(stack));
    await expect.poll(() => page.getByTestId("ops-ingestion").locator("tr[data-key]").count()).toBeGreaterThan(0);
    await page.getByTestId("ops-ingestion").locator(".chart canvas").waitFor();
    await shot(page, "20-operations");
    expect(refusals).toEqual([]);
  });

  it("opens with key 0 and asks for the window the range selector names, kept in the URL", async () => {
    const { page, stack } = dash;
    await signInAsAdmin(page, stack);
    // The admin's tenth view: keys 1–9, then 0.
    await page.keyboard.press("9");
    await page.getByTestId("alert-rules-card").waitFor();
    await page.keyboard.press("0");
    await page.getByTestId("operations").waitFor();
    const asked = page.waitForRequest((r) => r.url().includes("/api/v1/ops/metrics?minutes=15"));
    await page.getByTestId("ops-range").selectOption("15");
    await asked;
    expect(new URL(page.url()).searchParams.get("minutes")).toBe("15");
    await page.getByTestId("ops-ingestion").waitFor();
    await expect.poll(() => page.getByTestId("dead-letters").textContent()).toMatch(/No dead letters/);
  });

  it("replays a dead letter, and drops one only with a reason", async () => {
    const { page, stack } = dash;
    // A fresh stack has no dead letters (test/workers/dead-letters.test.ts walks the real path);
    // here the list is given to the page and what the page asks of the API is recorded.
    const letter = (id: string, events: number) => ({
      id,
      dead_lettered_at: "2026-12-02T10:00:00.000Z",
      queue: "events",
      attempts: 11,
      last_error: events ? "ClickHouse: connect ECONNREFUSED" : "schema: not an events message",
      events,
      property_ids: events ? [PROPERTY] : [],
      bytes: 512,
    });
    let letters = [letter("dl-transient", 3), letter("dl-poison", 0)];
    const asked: { method: string; path: string; body: string | null }[] = [];
    await page.route("**/api/v1/ops/dead-letters**", async (route) => {
      const request = route.request();
      const path = new URL(request.url()).pathname;
      if (request.method() === "GET") return route.fulfill({ json: { dead_letters: letters, cursor: null } });
      asked.push({ method: request.method(), path, body: request.postData() });
      const id = path.split("/")[5] ?? "";
      letters = letters.filter((l) => l.id !== id);
      return request.method() === "POST"
        ? route.fulfill({ status: 202, json: { replayed: id, events: 3 } })
        : route.fulfill({ json: { dropped: id } });
    });
    await signInAsAdmin(page, stack);
    const table = page.getByTestId("dead-letters");
    await poll(() => table.locator("tbody tr").count()).toBe(2);
    const poison = table.locator('tr[data-id="dl-poison"]');
    expect(await poison.getByRole("button", { name: "Replay" }).isDisabled()).toBe(true);
    await table.locator('tr[data-id="dl-transient"]').getByRole("button", { name: "Replay" }).click();
    await poll(() => table.locator("tbody tr").count()).toBe(1);
    await poison.getByRole("button", { name: "Drop…" }).click();
    const drop = poison.getByRole("button", { name: "Drop", exact: true });
    expect(await drop.isDisabled()).toBe(true);
    await poison.getByLabel(/Why drop it/).fill("not an events message: nothing to recover");
    await drop.click();
    await poll(() => table.textContent()).toMatch(/No dead letters/);
    expect(asked).toEqual([
      { method: "POST", path: "/api/v1/ops/dead-letters/dl-transient/replay", body: null },
      {
        method: "DELETE",
        path: "/api/v1/ops/dead-letters/dl-poison",
        body: JSON.stringify({ reason: "not an events message: nothing to recover" }),
      },
    ]);
  });

  it("is not shown to a property's API key, even at its URL", async () => {
    const { page, stack } = dash;
    await signIn(page, stack);
    const nav = page.getByRole("navigation", { name: "Reports" });
    await expect.poll(() => nav.getByRole("link").allTextContents()).toContain("Alerts");
    expect(await nav.getByRole("link").allTextContents()).not.toContain("Operations");
    const opsRequests: string[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/ops/")) opsRequests.push(r.url());
    });
    await page.goto(`${stack.url}/?property=${PROPERTY}&view=operations`);
    await page.getByTestId("admin-only").waitFor();
    expect(await page.getByTestId("operations").count()).toBe(0);
    expect(opsRequests).toEqual([]);
    const res = await fetch(`${stack.url}/api/v1/ops/metrics`, {
      headers: { Authorization: `Bearer ${stack.demoKey}` },
    });
    expect([401, 403]).toContain(res.status);
    // The page offers the admin sign-in, after which the board opens where the link led.
    await page.getByRole("button", { name: "Sign in with the admin token" }).click();
    await page.getByLabel("API key or admin token").fill(stack.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByTestId("operations").waitFor();
    expect(new URL(page.url()).searchParams.get("view")).toBe("operations");
  });
});
