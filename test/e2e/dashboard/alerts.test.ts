/**
 * The Alerts page (issue #18) in Chromium against `npm run dev`'s stack, signed in with the demo
 * property's API key: the empty states; the rules form's round trip through the API (a bad webhook
 * URL refused next to its field; saved rules read back); the signing secret shown once, and proven
 * the real one by a test notification a local receiver verifies with it; and the alert list's order.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature, WEBHOOK_SIGNATURE_HEADER } from "../../../core/ops/webhook.ts";
import type { ShownAlert } from "../../../web/dashboard/src/modules/alerts/model.ts";
import { openModule, poll, setupDashboard, shot } from "./support.ts";

const dash = setupDashboard({ signedIn: true, seeded: false });
const PROPERTY = "UA-DEMO-1";

/** A webhook receiver on the loopback (the only place http is allowed), keeping what it was sent. */
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
let receiver: Server;
let hookUrl = "";
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())));

async function rulesPerApi(): Promise<Record<string, unknown>> {
  const res = await fetch(`${dash.stack.url}/api/v1/properties/${PROPERTY}/alert-rules`, {
    headers: { Authorization: `Bearer ${dash.stack.demoKey}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { rules: Record<string, unknown> }).rules;
}

describe("Alerts page", () => {
  it("saves rules and a webhook, shows its secret once, and sends a signed test", async () => {
    const { page } = dash;
    // Served under the dashboard's CSP (test/e2e/dashboard-csp.test.ts): the page must not trip it.
    const refusals: string[] = [];
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) refusals.push(m.text());
    });
    await openModule(page, "Alerts");
    const form = page.getByTestId("alert-rules");
    await form.waitFor();
    await poll(() => page.getByTestId("open-alerts").textContent()).toContain("No open alerts");

    // Plain http to another host is refused by the API, which names the field: shown beside it.
    await form.getByLabel(/^URL/).fill("http://example.com/hook");
    await form.getByRole("button", { name: "Save rules" }).click();
    await poll(() => page.getByTestId("error-webhook.url").textContent()).toMatch(/https/);
    expect((await rulesPerApi()).webhook).toBeNull();

    await form.getByLabel(/^Threshold/).fill("6");
    await form.getByLabel(/^Minutes in a row/).fill("2");
    await form.getByLabel(/^Notifications per 24 hours/).fill("5");
    await form.getByLabel("Bot share jumped").uncheck();
    await form.getByLabel(/^URL/).fill(hookUrl);
    await form.getByLabel("Format").selectOption("slack");
    await form.getByRole("button", { name: "Save rules" }).click();
    await page.getByTestId("rules-saved").waitFor();
    expect(await page.getByTestId("error-webhook.url").count()).toBe(0);
    const secret = (await page.getByTestId("webhook-secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^whsec_/);
    const rules = await rulesPerApi();
    expect(rules).toMatchObject({
      threshold: 6,
      consecutive_minutes: 2,
      max_per_day: 5,
      webhook: { url: hookUrl, format: "slack" },
    });
    expect(rules.kinds).not.toContain("bot_share");
    expect(JSON.stringify(rules)).not.toContain(secret);

    await page.getByTestId("send-test").click();
    await poll(() => page.getByTestId("test-result").textContent()).toMatch(/^Delivered/);
    expect(received).toHaveLength(1);
    const [test] = received;
    const signature = String(test?.headers[WEBHOOK_SIGNATURE_HEADER.toLowerCase()] ?? "");
    expect(await verifyWebhookSignature(secret, signature, test?.body ?? "", Date.now())).toBe(true);
    expect(await verifyWebhookSignature(`${secret}x`, signature, test?.body ?? "", Date.now())).toBe(false);
    await shot(page, "21-alerts-rules");
    expect(refusals).toEqual([]);

    // Once: a reload reads the rules back, without the secret.
    await page.reload();
    await form.waitFor();
    await poll(() => form.getByLabel(/^Threshold/).inputValue()).toBe("6");
    expect(await form.getByLabel(/^URL/).inputValue()).toBe(hookUrl);
    expect(await form.getByLabel("Bot share jumped").isChecked()).toBe(false);
    expect(await page.getByTestId("webhook-secret").count()).toBe(0);
  });

  it("lists open alerts first, then the history with durations", async () => {
    const { page, stack } = dash;
    // The detector needs an hour of steady traffic before it alerts (test/e2e/alerts.test.ts drives
    // that); here the API's answer is given to the page, in the API's own types.
    const alert = (id: string, kind: ShownAlert["kind"], opened: string, resolved: string | null): ShownAlert => ({
      alert_id: id,
      property_id: PROPERTY,
      kind,
      metric: "pageviews",
      subject: "",
      status: resolved ? "resolved" : "open",
      opened_at: opened,
      resolved_at: resolved,
      minute: opened,
      observed: 400,
      expected: 40,
      deviation: 9,
      message: `${kind}: ${id}`,
    });
    const alerts = [
      alert("al_old", "drop", "2026-12-01T08:00:00.000Z", "2026-12-01T08:42:00.000Z"),
      alert("al_now", "spike", new Date(Date.now() - 5 * 60_000).toISOString(), null),
    ];
    await page.route("**/api/v1/properties/*/alerts?*", (route) => route.fulfill({ json: { alerts } }));
    await page.goto(`${stack.url}/?property=${PROPERTY}&view=alerts`);
    const open = page.getByTestId("open-alert-list");
    await poll(() => open.locator("tbody tr").count()).toBe(1);
    expect(await open.textContent()).toMatch(/Traffic spike.*spike: al_now.*still open/);
    const history = page.getByTestId("alert-history-list");
    expect(await history.locator("tbody tr").count()).toBe(1);
    expect(await history.textContent()).toMatch(/Traffic drop.*2026-12-01 08:00 UTC.*42 min.*2026-12-01 08:42 UTC/);
    await shot(page, "22-alerts-list");
  });
});
