/**
 * How people get in (issue #21), in a real browser against `npm run dev`'s seeded stack: an
 * invitation accepted into a new account, which then sees what its role allows (a viewer only the
 * reports, an editor the editing controls too) through its session cookie alone; signing out and in
 * again with email and password; a shared link that works without an account until revoked, one
 * behind a password, and the public switch. The admin token sets everything up through the API.
 */
import type { Page, Request } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { DevStack } from "../../../dev/stack.ts";
import { apiQuery, number, poll, setupDashboard, shot } from "./support.ts";

const dash = setupDashboard({ signedIn: false });
const PROPERTY = "UA-DEMO-1";

/** The team API as the admin token: the status and the JSON answer. */
async function asAdmin<T>(stack: DevStack, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.url}/api/v1/properties/${PROPERTY}${path}`, {
    method,
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, `${method} ${path}`).toBeLessThan(300);
  return (await res.json()) as T;
}

/** The link an invitation or a share answers, on this stack's origin (the fragment keeps the token). */
const onStack = (stack: DevStack, url: string) => {
  const link = new URL(url);
  return `${stack.url}${link.pathname}${link.hash}`;
};

/** The Authorization headers the page's API requests carried ("" for none), recorded from now on. */
function authorizations(page: Page): string[] {
  const seen: string[] = [];
  page.on("request", (r: Request) => {
    if (new URL(r.url()).pathname.startsWith("/api/v1/query")) seen.push(r.headers().authorization ?? "");
  });
  return seen;
}

/** The status of a same-origin request from the page: the cookie goes with it, no header. */
const fetchStatus = (page: Page, path: string, method = "GET") =>
  page.evaluate(async ([p, m]) => (await fetch(p as string, { method: m as string })).status, [path, method]);

const navLinks = (page: Page) => page.getByRole("navigation", { name: "Reports" }).getByRole("link").allTextContents();

async function expectOverviewFigures(page: Page, stack: DevStack): Promise<void> {
  const [totals] = await apiQuery(stack, { metrics: ["visitors", "pageviews"] });
  expect(totals?.metrics[0]).toBeGreaterThan(0);
  await poll(() => page.getByTestId("kpi-visitors").textContent()).toBe(number.format(totals?.metrics[0] ?? -1));
  expect(await page.getByTestId("kpi-pageviews").textContent()).toBe(number.format(totals?.metrics[1] ?? -1));
}

/** Invites `email` with the admin token and accepts in `page` as a new account; lands on the overview. */
async function join(page: Page, stack: DevStack, email: string, role: string, password: string): Promise<void> {
  const { url } = await asAdmin<{ url: string }>(stack, "POST", "/invitations", { email, role });
  expect(url).toMatch(/\/invite\/UA-DEMO-1#.+/);
  await page.goto(onStack(stack, url));
  await poll(() => page.getByTestId("invitation").textContent()).toMatch(
    new RegExp(`You are invited to .+ as ${role}`),
  );
  expect(await page.getByTestId("invitation-email").textContent()).toBe(email);
  await page.getByLabel("Name").fill(`${role} person`);
  await page.getByLabel("Choose a password").fill(password);
  await shot(page, `29-invitation-${role}`);
  await page.getByRole("button", { name: "Create account and join" }).click();
  await page.getByTestId("kpi-visitors").waitFor();
  const address = new URL(page.url());
  expect([address.pathname, address.hash, address.searchParams.get("property")]).toEqual(["/", "", PROPERTY]);
}

describe("dashboard: accounts, roles and shared links", () => {
  it("an invited viewer sees only the reports through the session cookie; signs out, and in with email and password", async () => {
    const { page, stack } = dash;
    const sent = authorizations(page);
    await join(page, stack, "viewer@example.com", "viewer", "viewer-password-1");
    await expectOverviewFigures(page, stack);
    // The session cookie is the credential: no Authorization header at all.
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((a) => a === "")).toBe(true);
    const links = await navLinks(page);
    expect(links).toContain("Overview");
    for (const hidden of ["Settings", "Alerts", "Operations"]) expect(links).not.toContain(hidden);
    await page.getByTestId("annotations").waitFor({ state: "attached" });
    expect(await page.getByText("Add a note").count()).toBe(0);
    await shot(page, "30-viewer-overview");
    // A link to Settings from someone with more access says so instead of failing.
    await page.goto(`${stack.url}/?property=${PROPERTY}&view=settings`);
    await page.getByTestId("not-allowed").waitFor();
    await page.getByRole("button", { name: "Open the overview" }).click();
    await page.getByTestId("kpi-visitors").waitFor();
    // The server refuses the cookie on a people route; reading is fine.
    expect(await fetchStatus(page, `/api/v1/properties/${PROPERTY}/members`)).toBe(403);
    expect(await fetchStatus(page, `/api/v1/properties/${PROPERTY}/access`)).toBe(200);

    await page.getByTestId("account-menu").click();
    await page.getByRole("menuitem", { name: "Sign out", exact: true }).click();
    await page.getByLabel("Email").waitFor();
    expect(await fetchStatus(page, "/api/v1/auth/me")).toBe(401);
    await shot(page, "30-sign-in");
    await page.getByLabel("Email").fill("viewer@example.com");
    await page.getByLabel("Password").fill("not-the-password");
    await page.getByRole("button", { name: "Continue" }).click();
    await poll(() => page.getByRole("alert").textContent()).toMatch(/do not match/);
    await page.getByLabel("Password").fill("viewer-password-1");
    await page.getByRole("button", { name: "Continue" }).click();
    await expectOverviewFigures(page, stack);
    expect(await navLinks(page)).not.toContain("Settings");
  }, 90_000);

  it("an invited editor sees the editing controls but not the people routes, and signs out everywhere", async () => {
    const { page: editor, stack } = dash;
    await join(editor, stack, "editor@example.com", "editor", "editor-password-1");
    await editor.getByText("Add a note").waitFor();
    const editorLinks = await navLinks(editor);
    expect(editorLinks).toContain("Settings");
    expect(editorLinks).toContain("Alerts");
    expect(editorLinks).not.toContain("Operations");
    await shot(editor, "31-editor-overview");
    await editor.getByRole("navigation", { name: "Reports" }).getByRole("link", { name: "Alerts" }).click();
    await editor.getByTestId("alert-rules-card").waitFor();
    expect(await fetchStatus(editor, `/api/v1/properties/${PROPERTY}/members`)).toBe(403);
    // Every session of the account ends.
    await editor.getByTestId("account-menu").click();
    await editor.getByRole("menuitem", { name: "Sign out everywhere" }).click();
    await editor.getByLabel("Email").waitFor();
    expect(await fetchStatus(editor, "/api/v1/auth/me")).toBe(401);
  }, 90_000);

  it("a shared link shows the reports read-only without an account until revoked; a password share asks for it", async () => {
    const { page, stack } = dash;
    const sent = authorizations(page);
    const { share, url } = await asAdmin<{ share: { share_id: string }; url: string }>(stack, "POST", "/shares", {
      label: "For the board",
    });
    expect(url).toMatch(/\/share\/UA-DEMO-1#shr_/);
    await page.goto(onStack(stack, url));
    await expectOverviewFigures(page, stack);
    await poll(() => page.getByTestId("shared-badge").textContent()).toMatch(/^Shared view of .+ · read only$/);
    // The token left the address bar, and every report asked with it.
    expect(new URL(page.url()).hash).toBe("");
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((a) => a.startsWith("Bearer shr_"))).toBe(true);
    const links = await navLinks(page);
    for (const hidden of ["Settings", "Alerts", "Operations", "Custom reports", "Bot traffic"])
      expect(links).not.toContain(hidden);
    expect(await page.getByRole("button", { name: /sign out/i }).count()).toBe(0);
    await page.getByTestId("annotations").waitFor({ state: "attached" });
    expect(await page.getByText("Add a note").count()).toBe(0);
    await shot(page, "32-shared-link");

    await asAdmin(stack, "DELETE", `/shares/${share.share_id}`);
    // The next report asked for is refused, and the page says why.
    await page.getByRole("navigation", { name: "Reports" }).getByRole("link", { name: "Audience" }).click();
    await poll(() => page.getByTestId("share-gone").textContent()).toContain("This shared link is no longer valid");
    await page.reload();
    await poll(() => page.getByTestId("share-gone").textContent()).toContain("This shared link is no longer valid");
    expect(await page.getByTestId("kpi-visitors").count()).toBe(0);
    await shot(page, "33-shared-link-revoked");

    const locked = await asAdmin<{ url: string }>(stack, "POST", "/shares", {
      label: "Investors",
      password: "open sesame 42",
    });
    const other = await dash.context.newPage();
    const unlockedWith = authorizations(other);
    await other.goto(onStack(stack, locked.url));
    await other.getByLabel("Password").fill("not the password");
    await other.getByRole("button", { name: "Open" }).click();
    await poll(() => other.getByRole("alert").textContent()).toMatch(/not the link's password/);
    expect(await other.getByTestId("kpi-visitors").count()).toBe(0);
    await shot(other, "34-shared-link-password");
    await other.getByLabel("Password").fill("open sesame 42");
    await other.getByRole("button", { name: "Open" }).click();
    await expectOverviewFigures(other, stack);
    expect(unlockedWith.every((a) => a.startsWith("Bearer shu_"))).toBe(true);
    // The unlocked token lasts for the tab: a reload does not ask again.
    await other.reload();
    await expectOverviewFigures(other, stack);
  });

  it("the public switch opens /share/<id> to anyone, with no credential, until it is switched off", async () => {
    const { page, stack } = dash;
    const sent = authorizations(page);
    const publicUrl = `${stack.url}/share/${PROPERTY}`;
    await page.goto(publicUrl);
    await poll(() => page.getByTestId("share-gone").textContent()).toContain("This dashboard is not public");
    try {
      await asAdmin(stack, "PATCH", "", { public_dashboard: true });
      await page.reload();
      await expectOverviewFigures(page, stack);
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.every((a) => a === "")).toBe(true);
      expect(await navLinks(page)).not.toContain("Settings");
      await shot(page, "35-public-dashboard");
    } finally {
      await asAdmin(stack, "PATCH", "", { public_dashboard: false });
    }
    await page.reload();
    await poll(() => page.getByTestId("share-gone").textContent()).toContain("This dashboard is not public");
  });
});
