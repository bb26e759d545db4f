/**
 * Alert webhooks in workerd (issue #18): notices leave the PropertyDO's outbox on its alarm, signed
 * (verified here as a receiver would), opened then resolved; the daily cap holds back a second
 * opening and so its resolved notice; a failing receiver is retried on the backoff schedule and
 * given up after MAX_WEBHOOK_ATTEMPTS; the test endpoint reports what the receiver answered; a
 * deleted property detects and sends nothing. The receiver stands in for the network
 * (alert-support.ts); test/e2e/alerts.test.ts has a real one.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_WEBHOOK_ATTEMPTS, verifyWebhookSignature } from "../../core/ops/webhook.ts";
import { drainOutbox } from "../../durable-objects/alert-delivery.ts";
import { readOutbox } from "../../durable-objects/alert-detection.ts";
import {
  feedMinutes,
  listAlerts,
  MINUTE,
  minuteOf,
  putRules,
  type Received,
  webhookReceiver,
} from "./alert-support.ts";
import { ADMIN, call, createProperty } from "./helpers.ts";

let received: Received[];
const failing = new Set(["https://hooks.test/failing", "https://hooks.test/test-down"]);

beforeAll(() => {
  received = webhookReceiver((url) => (failing.has(url) ? 503 : 200));
});

afterAll(() => {
  vi.restoreAllMocks();
});

const to = (path: string) => received.filter((r) => r.url === `https://hooks.test/${path}`);
const stub = (id: string) => env.PROPERTY_DO.getByName(id);

/** A property with a webhook at https://hooks.test/<path>; returns its signing secret. */
async function withWebhook(id: string, path: string, rules: Record<string, unknown> = {}): Promise<string> {
  await createProperty({ property_id: id });
  const res = await putRules(id, { webhook: { url: `https://hooks.test/${path}` }, ...rules });
  expect(res.status).toBe(200);
  return (await res.json<{ webhook_secret: string }>()).webhook_secret;
}

/** Ten pageviews a minute for 75 minutes (past the warm-up), then `spike` minutes of 80, then normal ones. */
async function spikeAndCalm(id: string, start: number, first: number, calm: number): Promise<void> {
  if (first === 75) await feedMinutes(id, start, 0, 74, () => 10);
  await feedMinutes(id, start, first, first + 1, () => 80);
  await feedMinutes(id, start, first + 2, first + 2 + calm, () => 10);
}

describe("alert webhooks", () => {
  it("sends signed opened and resolved notices, and the daily cap holds back a second alert", async () => {
    const id = "UA-HOOK-SIGNED";
    const secret = await withWebhook(id, "signed", { threshold: 5, consecutive_minutes: 2, max_per_day: 1 });
    const start = minuteOf(Date.now()) + 60 * MINUTE;
    await spikeAndCalm(id, start, 75, 6);
    await runDurableObjectAlarm(stub(id));
    await vi.waitFor(() => expect(to("signed")).toHaveLength(2), { timeout: 10_000 });

    const [opened, resolved] = to("signed");
    for (const notice of [opened, resolved]) {
      expect(notice?.userAgent).toBe("Tally-Alerts/1");
      expect(notice?.contentType).toBe("application/json");
      expect(await verifyWebhookSignature(secret, notice?.signature ?? "", notice?.body ?? "", Date.now())).toBe(true);
      // A receiver refuses a body changed on the way, or another secret.
      expect(await verifyWebhookSignature(secret, notice?.signature ?? "", `${notice?.body} `, Date.now())).toBe(false);
      expect(await verifyWebhookSignature(`${secret}x`, notice?.signature ?? "", notice?.body ?? "", Date.now())).toBe(
        false,
      );
    }
    const [alert] = await listAlerts(id);
    expect(JSON.parse(opened?.body ?? "")).toMatchObject({
      type: "alert.opened",
      property_id: id,
      alert: { alert_id: alert?.alert_id, kind: "spike", status: "open", opened_at: alert?.opened_at },
    });
    expect(JSON.parse(resolved?.body ?? "")).toMatchObject({
      type: "alert.resolved",
      alert: { alert_id: alert?.alert_id, status: "resolved" },
    });

    // A second spike within the day: opened and resolved, stored, but past max_per_day: not sent.
    await spikeAndCalm(id, start, 90, 6);
    const alerts = await listAlerts(id);
    expect(alerts.map((a) => [a.kind, a.status])).toEqual([
      ["spike", "resolved"],
      ["spike", "resolved"],
    ]);
    await runDurableObjectAlarm(stub(id));
    await vi.waitFor(async () => {
      const outbox = await runInDurableObject(stub(id), (_i, state) => readOutbox(state.storage));
      expect([outbox.rows.length, outbox.deliveries.length]).toEqual([0, 0]);
    });
    expect(to("signed")).toHaveLength(2);
  }, 60_000);

  it("retries a failing receiver on the backoff schedule and gives up after the last attempt", async () => {
    const id = "UA-HOOK-FAILING";
    await withWebhook(id, "failing", { threshold: 5, consecutive_minutes: 2 });
    const start = minuteOf(Date.now()) + 60 * MINUTE;
    await feedMinutes(id, start, 0, 74, () => 10);
    await feedMinutes(id, start, 75, 79, (i) => (i < 77 ? 80 : 10));
    expect((await listAlerts(id)).map((a) => a.status)).toEqual(["open"]);
    await runDurableObjectAlarm(stub(id));
    await vi.waitFor(() => expect(to("failing")).toHaveLength(1), { timeout: 10_000 });

    const drain = (now: number) =>
      runInDurableObject(stub(id), (_i, state) => drainOutbox(state.storage, env, id, now));
    const pending = async () =>
      (await runInDurableObject(stub(id), (_i, state) => readOutbox(state.storage))).deliveries;
    let now = Date.now();
    // Not yet due: the first retry waits 30 s.
    await drain(now + 10_000);
    expect(to("failing")).toHaveLength(1);
    for (let attempt = 2; attempt <= MAX_WEBHOOK_ATTEMPTS; attempt++) {
      const [next] = await pending();
      expect(next?.attempts).toBe(attempt - 1);
      now = next?.due ?? now;
      await drain(now);
      expect(to("failing")).toHaveLength(attempt);
    }
    expect(await pending()).toEqual([]);
    await drain(now + 86_400_000);
    expect(to("failing")).toHaveLength(MAX_WEBHOOK_ATTEMPTS);
  }, 60_000);

  it("answers the test notification with what the receiver said", async () => {
    const id = "UA-HOOK-TEST";
    const secret = await withWebhook(id, "test-up");
    const res = await call(`/api/v1/properties/${id}/alert-rules/test`, { method: "POST", headers: ADMIN });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ delivered: true, status: 200 });
    const [notice] = to("test-up");
    expect(await verifyWebhookSignature(secret, notice?.signature ?? "", notice?.body ?? "", Date.now())).toBe(true);
    expect(JSON.parse(notice?.body ?? "").alert.message).toMatch(/Test notification/);

    await putRules(id, { webhook: { url: "https://hooks.test/test-down" } });
    const down = await call(`/api/v1/properties/${id}/alert-rules/test`, { method: "POST", headers: ADMIN });
    expect(await down.json()).toEqual({ delivered: false, status: 503, error: "the receiver answered 503" });
  }, 60_000);

  it("detects and sends nothing once the property is deleted", async () => {
    const id = "UA-HOOK-DELETED";
    await withWebhook(id, "deleted", { threshold: 5, consecutive_minutes: 2 });
    const start = minuteOf(Date.now()) + 60 * MINUTE;
    await feedMinutes(id, start, 0, 74, () => 10);
    expect((await call(`/api/v1/properties/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(202);
    expect(await feedMinutes(id, start, 75, 80, () => 80)).toEqual([0, 0, 0, 0, 0, 0]);
    const kept = await runInDurableObject(stub(id), async (_i, state) => [
      ...(await state.storage.list({ prefix: "alert" })).keys(),
    ]);
    expect(kept).toEqual([]);
    expect(await stub(id).listAlerts("all", 50)).toBeUndefined();
    expect(to("deleted")).toEqual([]);
  }, 60_000);
});
