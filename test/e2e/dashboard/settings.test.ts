/**
 * What a team shares, in a real browser against `npm run dev`'s seeded stack (issue #21): the
 * Settings page's invitations, shared links, a scheduled report sent to a local webhook and the
 * audit log; annotations on the overview's chart, saved reports
 * seen by another person, and segments in the filter bar. The admin signs in with the stack's admin
 * token; the other person is an editor invited through the API, who accepts in their own browser
 * context (the session cookie stays there). Each test starts in a fresh context.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { DevStack } from "../../../dev/stack.ts";
import { poll, setupDashboard, shot, signInTo } from "./support.ts";

const dash = setupDashboard({ signedIn: false });
const PROPERTY = "UA-DEMO-1";

/** The team API as the admin token. */
async function admin<T>(stack: DevStack, path: string, body?: unknown, method?: string): Promise<T> {
  const res = await fetch(`${stack.url}/api/v1/properties/${PROPERTY}/${path}`, {
    method: method ?? (body === undefined ? "GET" : "POST"),
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method ?? "GET/POST"} ${path}: ${res.status}`).toBeLessThan(300);
  return (await res.json()) as T;
}

/** Invites `email` as an editor through the API and accepts in `page`'s own browser, which keeps the session cookie. */
async function joinAsEditor(page: Page, stack: DevStack, email: string): Promise<void> {
  const { url } = await admin<{ url: string }>(stack, "invitations", { email, role: "editor" });
  const token = new URL(url).hash.slice(1);
  await page.goto(`${stack.url}/`);
  const status = await page.evaluate(
    async (body) =>
      (
        await fetch("/api/v1/invitations/accept", {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        })
      ).status,
    { property_id: PROPERTY, token, email, password: "correct horse battery" },
  );
  expect(status).toBe(200);
}

describe("dashboard: what a team shares", () => {
  it("issues, lists and revokes an invitation, and creates and revokes a shared link, on the Settings page", async () => {
    const { page, stack } = dash;
    await signInTo(page, stack, stack.adminToken, PROPERTY, "settings");
    const members = page.getByTestId("members");
    await members.getByLabel("Email").fill("newcomer@example.com");
    await members.getByLabel("Role of the invited person").selectOption("editor");
    await members.getByRole("button", { name: "Invite" }).click();
    await poll(() => page.getByTestId("invitation-url-value").textContent()).toMatch(/\/invite\/[^#]+#.+/);
    const invitation = members.getByTestId("invitation").filter({ hasText: "newcomer@example.com" });
    await poll(() => invitation.count()).toBe(1);
    expect(await invitation.textContent()).toContain("editor");
    const pending = await admin<{ invitations: { email: string }[] }>(stack, "members");
    expect(pending.invitations.map((i) => i.email)).toContain("newcomer@example.com");

    const links = page.getByTestId("shared-links");
    await links.getByLabel("Label").fill("For the board");
    await links.getByRole("button", { name: "Create link" }).click();
    await poll(() => page.getByTestId("share-url-value").textContent()).toMatch(/\/share\/[^#]+#.+/);
    const share = links.getByTestId("share").filter({ hasText: "For the board" });
    await poll(() => share.count()).toBe(1);
    await shot(page, "20-settings");

    await members.getByRole("button", { name: "Revoke the invitation of newcomer@example.com" }).click();
    await poll(() => invitation.count()).toBe(0);
    const after = await admin<{ invitations: { email: string }[] }>(stack, "members");
    expect(after.invitations.map((i) => i.email)).not.toContain("newcomer@example.com");
    await links.getByRole("button", { name: "Revoke the shared link For the board" }).click();
    await poll(() => share.count()).toBe(0);
    const shares = await admin<{ shares: { label: string; revoked_at: number | null }[] }>(stack, "shares");
    expect(shares.shares.find((s) => s.label === "For the board")?.revoked_at).not.toBeNull();

    // A Slack-compatible webhook on this machine (the stack has no mail transport): "Send now" posts to it.
    const posts: string[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        posts.push(body);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    try {
      const target = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
      const digests = page.getByTestId("digests");
      await digests.getByLabel("Send to").selectOption("slack");
      await digests.getByLabel("Webhook URL").fill(target);
      await digests.getByRole("button", { name: "Schedule" }).click();
      const digest = digests.getByTestId("digest");
      await poll(() => digest.count()).toBe(1);
      expect(await digest.textContent()).toContain("Weekly");
      await digest.getByRole("button", { name: "Send now" }).click();
      await poll(() => posts.length, 30_000).toBeGreaterThanOrEqual(1);
      await digest.getByRole("button", { name: `Delete the weekly report to ${target}` }).click();
      await poll(() => digest.count()).toBe(0);
    } finally {
      hook.close();
    }
    await page.getByTestId("audit").getByRole("button", { name: "Refresh" }).click();
    await poll(() => page.getByTestId("audit-entry").count()).toBeGreaterThanOrEqual(4);
  });

  it("marks an annotation added in the overview on its chart, lists it, and answers it through the API", async () => {
    const { page, stack } = dash;
    await signInTo(page, stack, stack.adminToken, PROPERTY, "overview");
    await page.locator(".chart canvas").waitFor();
    const today = new Date().toISOString().slice(0, 10);
    const notes = page.getByTestId("annotations");
    await notes.getByText("Add a note").click();
    await notes.getByLabel("Date", { exact: true }).fill(today);
    await notes.getByLabel("Note", { exact: true }).fill("Launched the pricing page");
    await notes.getByRole("button", { name: "Add note" }).click();
    await poll(() => notes.getByTestId("annotation").textContent()).toContain("Launched the pricing page");
    const marker = page.locator(`[data-testid="annotation-marker"][data-date="${today}"]`);
    await poll(() => marker.count()).toBe(1);
    expect(await marker.getAttribute("title")).toContain("Launched the pricing page");
    const { annotations } = await admin<{ annotations: { date: string; text: string }[] }>(
      stack,
      `annotations?from=${today}&to=${today}`,
    );
    expect(annotations).toContainEqual(expect.objectContaining({ date: today, text: "Launched the pricing page" }));
    await shot(page, "21-annotation");
  });

  it("lists a report saved by one person, with its owner, to another person in another browser", async () => {
    const { browser, page, stack } = dash;
    const editor = await browser.newContext({
      locale: "en-US",
      timezoneId: "UTC",
      viewport: { width: 1280, height: 900 },
    });
    try {
      const theirs = await editor.newPage();
      await joinAsEditor(theirs, stack, "alice@example.com");
      await theirs.goto(`${stack.url}/?property=${PROPERTY}&view=custom`);
      await theirs.getByRole("button", { name: "Run report" }).click();
      await theirs.getByPlaceholder("Name this report").fill("Pages for the team");
      await theirs.getByRole("button", { name: "Save report" }).click();
      await poll(() => theirs.getByTestId("saved-reports").textContent()).toContain("Pages for the team");
    } finally {
      await editor.close();
    }
    await signInTo(page, stack, stack.adminToken, PROPERTY, "custom");
    const saved = page.getByTestId("saved-report").filter({ hasText: "Pages for the team" });
    await poll(() => saved.count()).toBe(1);
    expect(await saved.getByTestId("saved-meta").textContent()).toContain("by alice@example.com");
    await saved.getByRole("button", { name: "Pages for the team", exact: true }).click();
    await poll(() => page.getByTestId("custom-results").locator("tbody tr").count()).toBeGreaterThan(0);
    await shot(page, "22-saved-reports");
  });

  it("moves reports an older dashboard kept in this browser to the team", async () => {
    const { page, stack } = dash;
    await page.goto(`${stack.url}/`);
    const old = [
      {
        name: "Kept locally",
        report: { metrics: ["visitors"], dimensions: ["visit:country"], filters: [], limit: 10 },
      },
    ];
    await page.evaluate((list) => localStorage.setItem("tally.reports.UA-DEMO-1", JSON.stringify(list)), old);
    await signInTo(page, stack, stack.adminToken, PROPERTY, "custom");
    await page.getByRole("button", { name: "Move 1 report from this browser to the team" }).click();
    await poll(() => page.getByTestId("saved-report").filter({ hasText: "Kept locally" }).count()).toBe(1);
    expect(await page.evaluate(() => localStorage.getItem("tally.reports.UA-DEMO-1"))).toBeNull();
    const { items } = await admin<{ items: { name: string; definition: unknown }[] }>(stack, "saved?kind=report");
    expect(items.find((i) => i.name === "Kept locally")?.definition).toEqual(old[0]?.report);
  });

  it("applies a saved segment's filters in one click and saves the current filters as a segment", async () => {
    const { page, stack } = dash;
    const filters = [["is", "visit:device", ["mobile"]]];
    await admin(stack, "saved", { kind: "segment", name: "Phones", definition: { filters } });
    await signInTo(page, stack, stack.adminToken, PROPERTY, "overview");
    const segments = page.getByTestId("segments");
    await segments.getByText("Segments").click();
    await segments.getByRole("button", { name: "Phones" }).click();
    await poll(() => new URL(page.url()).searchParams.get("filters")).toBe(JSON.stringify(filters));
    await poll(() => page.getByTestId("filters").textContent()).toContain("Device is mobile");
    await page.getByTestId("kpi-visitors").waitFor();
    await segments.getByText("Segments").click();
    await shot(page, "23-segment");
    await segments.getByPlaceholder("Segment name").fill("Phones again");
    await segments.getByRole("button", { name: "Save segment" }).click();
    await poll(async () => {
      const { items } = await admin<{ items: { name: string; definition: unknown }[] }>(stack, "saved?kind=segment");
      return items.find((i) => i.name === "Phones again")?.definition;
    }).toEqual({ filters });
  });
});
