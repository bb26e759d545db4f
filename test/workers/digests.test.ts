/**
 * digests: scheduled reports end to end in workerd — a property's traffic through the real consumer,
 * digests added through the API, the hourly run at a Monday 07:10 local time sending the overview by
 * email (to the local receiver, TEST_SMTP_URL) and to a webhook (the receiver's /webhook), once only;
 * the unsubscribe link followed; "send now"; failures recorded on the digest; access refused.
 */
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { sendDueDigests } from "../../consumers/digests.ts";
import { ARCHIVE_CRON } from "../../consumers/schedule.ts";
import { lastCompletePeriod } from "../../core/digest/period.ts";
import type { Event } from "../../core/event.ts";
import type { AuditEntry, Digest } from "../../core/team/schemas.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { ReceivedMessage, WebhookCall } from "../../dev/servers/smtp-receiver.ts";
import { teamStub } from "../../platform/team.ts";
import { renderError, renderNotFound } from "../../workers/errors.ts";
import worker from "../../workers/main.ts";
import { runQuery } from "../../workers/query/run.ts";
import { digestRoutes } from "../../workers/team/digests.ts";
import { ADMIN, type CreatedProperty, consumeMessage, createProperty, envelope } from "./helpers.ts";

const testEnv = env as typeof env & { TEST_SMTP_URL: string; TEST_SMTP_INBOX: string };
/** The Worker as deployed with an SMTP transport and an address for its links. */
const mailEnv = { ...env, SMTP_URL: testEnv.TEST_SMTP_URL, PUBLIC_URL: "http://tally.test" };
const run = crypto.randomUUID().slice(0, 8);
const TZ = "Europe/Berlin";
const JSON_ADMIN = { ...ADMIN, "Content-Type": "application/json" };
let seq = 0;

/**
 * The digest routes behind the Worker's error shell. Mounted on an app of their own so they are
 * tested before workers/app.ts mounts them; "the Worker's entry" below holds app.ts to it.
 */
const digestApp = new Hono<{ Bindings: Env }>().route("/", digestRoutes);
digestApp.onError(renderError);
digestApp.notFound(renderNotFound);

async function callWith(e: Env, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await digestApp.fetch(new Request(`http://tally.test${path}`, init), e, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** The last Monday 07:10 in Berlin that has passed, and the week its digest reports. */
function mondayRun() {
  let period = lastCompletePeriod("weekly", TZ, Date.now());
  if (period.due_at + 70 * 60_000 > Date.now())
    period = lastCompletePeriod("weekly", TZ, period.due_at - 3 * 86_400_000);
  return { period, at: period.due_at + 70 * 60_000 };
}

const inbox = async () => (await fetch(`${testEnv.TEST_SMTP_INBOX}/messages`)).json<ReceivedMessage[]>();
const mailTo = async (to: string) => (await inbox()).filter((m) => m.to.includes(to));
const webhookCalls = async (path: string) =>
  (await (await fetch(`${testEnv.TEST_SMTP_INBOX}/webhook`)).json<WebhookCall[]>()).filter((w) => w.path === path);

async function addDigest(p: CreatedProperty, body: Record<string, string>, e: Env = mailEnv): Promise<Response> {
  return callWith(e, `/api/v1/properties/${p.property_id}/digests`, {
    method: "POST",
    headers: JSON_ADMIN,
    body: JSON.stringify(body),
  });
}

async function digests(p: CreatedProperty): Promise<Digest[]> {
  const res = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests`, { headers: ADMIN });
  expect(res.status).toBe(200);
  return (await res.json<{ digests: Digest[] }>()).digests;
}

const pageview = (p: CreatedProperty, client: string, t: number, extra: Partial<Event> = {}) =>
  makeEvent({
    property_id: p.property_id,
    event_id: `${run}-${++seq}`,
    client_id: `${run}-${client}`,
    event_timestamp: t,
    ...extra,
  });

describe("scheduled digests", () => {
  const { period, at } = mondayRun();
  const email = `ana-${run}@example.org`;
  const hook = `/webhook/${run}`;
  const failingHook = `/webhook/status/500/${run}`;
  let p: CreatedProperty;
  let byTarget: Map<string, Digest>;

  beforeAll(async () => {
    p = await createProperty({ property_id: `DG-${run}`, name: "Digest & <Co>", timezone: TZ });
    // Wednesday noon of the reported week (2 visitors, 3 pageviews), and of the week before (1, 1).
    const wednesday = Date.parse(`${period.from}T11:00:00Z`) + 2 * 86_400_000;
    const google = { source: "Google", referrer_host: "www.google.com", channel: "Organic Search" as const };
    await consumeMessage(`${run}-m1`, [
      pageview(p, "ann", wednesday, { page_path: "/", page_url: "https://example.com/" }),
      pageview(p, "ann", wednesday + 60_000, { page_path: "/pricing", page_url: "https://example.com/pricing" }),
      pageview(p, "ben", wednesday + 120_000, { ...google, page_path: "/", page_url: "https://example.com/" }),
      pageview(p, "cat", wednesday - 7 * 86_400_000, { page_path: "/", page_url: "https://example.com/" }),
    ]);
    for (const body of [
      { channel: "email", target: email, frequency: "weekly" },
      { channel: "slack", target: `${testEnv.TEST_SMTP_INBOX}${hook}`, frequency: "weekly" },
      { channel: "slack", target: `${testEnv.TEST_SMTP_INBOX}${failingHook}`, frequency: "weekly" },
    ]) {
      const res = await addDigest(p, body);
      expect(res.status, await res.clone().text()).toBe(201);
    }
    byTarget = new Map((await digests(p)).map((d) => [d.target, d]));
    await sendDueDigests(mailEnv, at, runQuery);
  }, 60_000);

  it("emails the week's overview with the change from the week before and the top pages and sources", async () => {
    const [message, ...more] = await mailTo(email);
    expect(more).toHaveLength(0);
    expect(message?.subject).toMatch(/^Digest & <Co>: weekly report, /);
    const text = message?.text ?? "";
    expect(text).toMatch(/Visitors\s+2\s+\+100%/);
    expect(text).toMatch(/Pageviews\s+3\s+\+200%/);
    expect(text).toMatch(/Visits\s+2\s+\+100%/);
    expect(text).toMatch(/Bounce rate\s+50%\s+\u221250 pts/);
    expect(text).toMatch(/2 {2}\/\n/);
    expect(text).toMatch(/1 {2}\/pricing\n/);
    expect(text).toMatch(/1 {2}Google\n/);
    expect(text).toMatch(/1 {2}Direct \/ none\n/);
    expect(text).toContain(`Dashboard: http://tally.test/?property=${p.property_id}&view=overview`);
    expect(message?.html).toContain("Digest &amp; &lt;Co&gt;");
    expect(message?.headers["list-unsubscribe"]).toMatch(/^<http:\/\/tally\.test\/api\/v1\/digests\/unsubscribe\?/);
    expect(message?.headers["list-unsubscribe-post"]).toBe("List-Unsubscribe=One-Click");
  });

  it("posts the same overview to the webhook, and records each digest's outcome", async () => {
    const [call, ...more] = await webhookCalls(hook);
    expect(more).toHaveLength(0);
    const body = call?.body as { text: string; blocks: unknown[] };
    expect(body.text).toContain("2 visitors (+100%)");
    expect(JSON.stringify(body.blocks)).toContain("/pricing");
    const now = new Map((await digests(p)).map((d) => [d.target, d]));
    expect(now.get(email)).toMatchObject({ last_period: period.name, last_error: null });
    expect(now.get(`${testEnv.TEST_SMTP_INBOX}${hook}`)).toMatchObject({ last_period: period.name, last_error: null });
    expect(now.get(`${testEnv.TEST_SMTP_INBOX}${failingHook}`)).toMatchObject({
      last_period: null,
      last_error: "webhook: 500 no_service",
    });
  });

  it("does not send a period twice, and tries a failed one again on the next run", async () => {
    await sendDueDigests(mailEnv, at + 3_600_000, runQuery);
    expect(await mailTo(email)).toHaveLength(1);
    expect(await webhookCalls(hook)).toHaveLength(1);
    expect(await webhookCalls(failingHook)).toHaveLength(2);
  }, 30_000);

  it("sends nothing before 06:00 on the Monday", async () => {
    const q = await createProperty({ property_id: `DG-${run}-early`, timezone: TZ });
    const target = `early-${run}@example.org`;
    expect((await addDigest(q, { channel: "email", target, frequency: "weekly" })).status).toBe(201);
    await sendDueDigests(mailEnv, period.due_at - 60_000, runQuery);
    expect(await mailTo(target)).toHaveLength(0);
  }, 30_000);

  it("sends the last complete period now on request, and answers a failed delivery with 502", async () => {
    const ok = byTarget.get(`${testEnv.TEST_SMTP_INBOX}${hook}`);
    const res = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests/${ok?.id}/send`, {
      method: "POST",
      headers: ADMIN,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sent: true, period: lastCompletePeriod("weekly", TZ, Date.now()).name });
    expect(await webhookCalls(hook)).toHaveLength(2);
    const failing = byTarget.get(`${testEnv.TEST_SMTP_INBOX}${failingHook}`);
    const refused = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests/${failing?.id}/send`, {
      method: "POST",
      headers: ADMIN,
    });
    expect(refused.status).toBe(502);
    expect((await envelope(refused)).error).toMatchObject({
      code: "delivery_failed",
      message: "webhook: 500 no_service",
    });
    const audit = await teamStub(env, p.property_id).auditLog(100);
    expect(audit.filter((a: AuditEntry) => a.action === "digest_sent").map((a) => a.target)).toEqual([ok?.id]);
  });

  it("unsubscribes through the email's link: a page with a button, then the digest is gone", async () => {
    const link = /Unsubscribe: (\S+)/.exec((await mailTo(email))[0]?.text ?? "")?.[1] ?? "";
    const url = new URL(link);
    const page = await callWith(mailEnv, `${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain(email);
    expect(page.headers.get("content-security-policy")).toContain("form-action 'self'");
    expect((await digests(p)).some((d) => d.target === email)).toBe(true);
    const done = await callWith(mailEnv, `${url.pathname}${url.search}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain("Unsubscribed");
    expect((await digests(p)).some((d) => d.target === email)).toBe(false);
    const audit = await teamStub(env, p.property_id).auditLog(100);
    expect(audit.find((a: AuditEntry) => a.action === "digest_removed")).toMatchObject({ actor: "unsubscribe link" });
    // Following it again is harmless.
    expect((await callWith(mailEnv, `${url.pathname}${url.search}`, { method: "POST" })).status).toBe(200);
  });

  it("refuses a forged or altered unsubscribe link with 403", async () => {
    const digest = byTarget.get(`${testEnv.TEST_SMTP_INBOX}${hook}`);
    for (const query of [
      `property_id=${p.property_id}&digest_id=${digest?.id}&token=${"A".repeat(43)}`,
      `property_id=DG-other&digest_id=${digest?.id}&token=${"A".repeat(43)}`,
    ]) {
      const res = await callWith(mailEnv, `/api/v1/digests/unsubscribe?${query}`, { method: "POST" });
      expect(res.status).toBe(403);
      expect((await envelope(res)).error.code).toBe("forbidden");
    }
    expect((await digests(p)).some((d) => d.id === digest?.id)).toBe(true);
  });
});

describe("the digests API", () => {
  it("refuses an email digest with 409 when no SMTP transport is configured, and takes a Slack one", async () => {
    const p = await createProperty({ property_id: `DG-${run}-nosmtp` });
    const noSmtp = { ...env, SMTP_URL: "" };
    const res = await addDigest(p, { channel: "email", target: "a@example.org", frequency: "weekly" }, noSmtp);
    expect(res.status).toBe(409);
    expect((await envelope(res)).error).toMatchObject({ code: "smtp_not_configured" });
    const slack = await addDigest(
      p,
      { channel: "slack", target: "https://hooks.example.com/x", frequency: "monthly" },
      noSmtp,
    );
    expect(slack.status).toBe(201);
    const { digest } = await slack.json<{ digest: Digest }>();
    expect(digest).toMatchObject({
      channel: "slack",
      frequency: "monthly",
      last_period: null,
      created_by: "admin token",
    });
    const del = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests/${digest.id}`, {
      method: "DELETE",
      headers: ADMIN,
    });
    expect(del.status).toBe(200);
    expect(await digests(p)).toEqual([]);
    const again = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests/${digest.id}`, {
      method: "DELETE",
      headers: ADMIN,
    });
    expect(again.status).toBe(404);
  });

  it("validates the body, naming the field", async () => {
    const p = await createProperty({ property_id: `DG-${run}-invalid` });
    const res = await addDigest(p, { channel: "slack", target: "http://example.com/hook", frequency: "weekly" });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain("target");
  });

  it("answers 401 without credentials, on every digest route", async () => {
    const p = await createProperty({ property_id: `DG-${run}-anon` });
    for (const [method, path] of [
      ["GET", "digests"],
      ["POST", "digests"],
      ["DELETE", "digests/abc"],
      ["POST", "digests/abc/send"],
    ] as const) {
      const res = await callWith(mailEnv, `/api/v1/properties/${p.property_id}/digests${path.slice(7)}`, { method });
      expect(res.status, `${method} ${path}`).toBe(401);
    }
  });
});

describe("the Worker's entry", () => {
  it("mounts the digest routes (workers/app.ts)", async () => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(new Request("http://tally.test/api/v1/properties/UA-1-1/digests"), env, ctx);
    await waitOnExecutionContext(ctx);
    expect(res.status).toBe(401);
    const link = await worker.fetch(
      new Request("http://tally.test/api/v1/digests/unsubscribe"),
      env,
      createExecutionContext(),
    );
    expect(link.status).toBe(400);
  });

  it("hands the hourly Cron its query executor, so the :10 run sends due digests", async () => {
    const p = await createProperty({ property_id: `DG-${run}-cron`, timezone: TZ });
    const target = `cron-${run}@example.org`;
    expect((await addDigest(p, { channel: "email", target, frequency: "weekly" })).status).toBe(201);
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: ARCHIVE_CRON, scheduledTime: mondayRun().at }),
      mailEnv,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    expect(await mailTo(target)).toHaveLength(1);
  }, 60_000);
});
