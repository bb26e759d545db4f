/**
 * Alert rules and webhooks (issue #18): the rules' defaults and patches, the JSON and Slack bodies,
 * the Stripe-style signature a receiver checks (held to node:crypto's HMAC), the daily cap and the
 * retry schedule.
 */
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ALERT_KINDS,
  type Alert,
  AlertRulesPatchSchema,
  AlertRulesSchema,
  alertId,
  applyRulesPatch,
} from "../../core/ops/alerts.ts";
import {
  admitNotification,
  MAX_WEBHOOK_ATTEMPTS,
  recentSends,
  retryDelayMs,
  signWebhook,
  verifyWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER,
  webhookBody,
} from "../../core/ops/webhook.ts";
import { DAY_MS, HOUR_MS } from "../../core/time.ts";

const T = Date.UTC(2026, 11, 2, 12, 0);
const alert: Alert = {
  alert_id: alertId("p1", "spike", "", T),
  property_id: "p1",
  kind: "spike",
  metric: "pageviews",
  subject: "",
  status: "open",
  opened_at: T + 60_000,
  resolved_at: null,
  minute: T,
  observed: 412,
  expected: 40.2,
  deviation: 17.5,
  message: "Pageviews spiked: 412 a minute against about 40 expected",
};
const resolved: Alert = { ...alert, status: "resolved", resolved_at: T + 20 * 60_000 };

describe("alert rules", () => {
  it("default every field, so an empty object is the default set", () => {
    expect(AlertRulesSchema.parse({})).toEqual({
      enabled: true,
      threshold: 4,
      consecutive_minutes: 3,
      min_pageviews_per_minute: 5,
      silence_minutes: 15,
      bot_share_jump: 0.3,
      refused_share_jump: 0.3,
      source_min_share: 0.2,
      kinds: [...ALERT_KINDS],
      max_per_day: 2,
      webhook: null,
    });
  });

  it("refuse an unknown field in a patch, naming it, and a value out of bounds, naming its path", () => {
    const unknown = AlertRulesPatchSchema.safeParse({ thresold: 5 });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["thresold"] });
    expect(unknown.error?.issues[0]?.message).toContain("thresold");
    const low = AlertRulesPatchSchema.safeParse({ threshold: 1 });
    expect(low.error?.issues[0]?.path).toEqual(["threshold"]);
    expect(AlertRulesPatchSchema.safeParse({ kinds: ["spike", "meteor"] }).error?.issues[0]?.path).toEqual([
      "kinds",
      1,
    ]);
    expect(AlertRulesPatchSchema.parse({})).toEqual({});
  });

  it("take https webhooks anywhere and http only on loopback, never with credentials", () => {
    const url = (u: string) => AlertRulesPatchSchema.safeParse({ webhook: { url: u } }).success;
    expect(url("https://hooks.slack.com/services/T0/B0/x")).toBe(true);
    expect(url("http://localhost:8787/hook")).toBe(true);
    expect(url("http://127.0.0.1:9000/")).toBe(true);
    expect(url("http://[::1]:9000/")).toBe(true);
    expect(url("http://example.com/hook")).toBe(false);
    expect(url("http://localhost.example.com/hook")).toBe(false);
    expect(url("https://user:secret@example.com/hook")).toBe(false);
    expect(url("ftp://example.com/")).toBe(false);
    expect(url("not a url")).toBe(false);
    expect(AlertRulesPatchSchema.parse({ webhook: { url: "https://x.example/h" } }).webhook?.format).toBe("json");
  });

  it("apply a patch over the current rules; webhook null removes the webhook", () => {
    const current = applyRulesPatch(AlertRulesSchema.parse({}), {
      threshold: 6,
      kinds: ["spike", "spike", "drop"],
      webhook: { url: "https://x.example/h", format: "slack" },
    });
    expect(current).toMatchObject({ threshold: 6, kinds: ["spike", "drop"], webhook: { format: "slack" } });
    expect(applyRulesPatch(current, { webhook: null })).toMatchObject({ threshold: 6, webhook: null });
  });

  it("give an alert the same id for the same property, kind, subject and minute, and another for any other", () => {
    const id = alertId("p1", "source_vanished", "google", T);
    expect(alertId("p1", "source_vanished", "google", T)).toBe(id);
    const others = [
      alertId("p2", "source_vanished", "google", T),
      alertId("p1", "spike", "google", T),
      alertId("p1", "source_vanished", "bing", T),
      alertId("p1", "source_vanished", "google", T + 60_000),
    ];
    expect(new Set([id, ...others]).size).toBe(5);
    expect(id).toMatch(/^al_[0-9a-z]+_[0-9a-f]{16}$/);
  });
});

describe("webhook bodies", () => {
  it("JSON: alert.opened with ISO times, the property and when it was sent", () => {
    const body = JSON.parse(webhookBody(alert, "json", "https://tally.example/p1", T + 61_000));
    expect(body).toEqual({
      type: "alert.opened",
      property_id: "p1",
      alert: {
        ...alert,
        opened_at: "2026-12-02T12:01:00.000Z",
        resolved_at: null,
        minute: "2026-12-02T12:00:00.000Z",
      },
      dashboard_url: "https://tally.example/p1",
      sent_at: "2026-12-02T12:01:01.000Z",
    });
    const closed = JSON.parse(webhookBody(resolved, "json"));
    expect(closed).toMatchObject({ type: "alert.resolved", alert: { resolved_at: "2026-12-02T12:20:00.000Z" } });
  });

  it("Slack: one readable line in `text`, and a resolved notice says so", () => {
    const opened = JSON.parse(webhookBody(alert, "slack", "https://tally.example/p1"));
    expect(Object.keys(opened)).toEqual(["text"]);
    expect(opened.text).not.toContain("\n");
    expect(opened.text).toContain("Pageviews spiked: 412 a minute against about 40 expected");
    expect(opened.text).toContain("<https://tally.example/p1|");
    expect(opened.text).not.toMatch(/resolved/i);
    const closed = JSON.parse(webhookBody(resolved, "slack"));
    expect(closed.text).toMatch(/Resolved: Pageviews spiked/);
    expect(closed.text).not.toContain("\n");
  });
});

describe("webhook signatures", () => {
  const secret = "whsec_test_0123456789";
  const body = webhookBody(alert, "json", undefined, T);

  it("sign as t=<unix seconds>,v1=<HMAC-SHA256 hex of '<t>.<body>'>, which a receiver can recompute", async () => {
    expect(WEBHOOK_SIGNATURE_HEADER).toBe("Tally-Signature");
    const header = await signWebhook(secret, T + 1500, body);
    const t = Math.floor((T + 1500) / 1000);
    const hex = createHmac("sha256", secret).update(`${t}.${body}`).digest("hex");
    expect(header).toBe(`t=${t},v1=${hex}`);
  });

  it("verify a signed body and refuse a tampered body, another secret, or a stale timestamp", async () => {
    const header = await signWebhook(secret, T, body);
    expect(await verifyWebhookSignature(secret, header, body, T + 60_000)).toBe(true);
    expect(await verifyWebhookSignature(secret, header, body.replace("412", "413"), T)).toBe(false);
    expect(await verifyWebhookSignature("whsec_other", header, body, T)).toBe(false);
    expect(await verifyWebhookSignature(secret, header, body, T + 301_000)).toBe(false);
    expect(await verifyWebhookSignature(secret, header, body, T - 301_000)).toBe(false);
    expect(await verifyWebhookSignature(secret, header, body, T + 3_600_000, 7200)).toBe(true);
    expect(await verifyWebhookSignature(secret, header.replace(/v1=./, "v1=0"), body, T)).toBe(false);
    expect(await verifyWebhookSignature(secret, "garbage", body, T)).toBe(false);
    // A receiver may be sent a second v1 during a secret rotation: any matching one is enough.
    expect(await verifyWebhookSignature(secret, `${header},v1=${"0".repeat(64)}`, body, T)).toBe(true);
  });
});

describe("the daily cap and retries", () => {
  it("admit at most max_per_day opened-alert notifications in any 24 hours", () => {
    expect(admitNotification([], T, 2)).toBe(true);
    expect(admitNotification([T - HOUR_MS], T, 2)).toBe(true);
    expect(admitNotification([T - 2 * HOUR_MS, T - HOUR_MS], T, 2)).toBe(false);
    // 24 hours after the first, one fits again.
    expect(admitNotification([T - DAY_MS, T - HOUR_MS], T, 2)).toBe(true);
    expect(admitNotification([], T, 0)).toBe(false);
    expect(recentSends([T - DAY_MS - 1, T - DAY_MS, T - 1, T], T)).toEqual([T - 1, T]);
  });

  it("back off 30 s, 2 min, 10 min, then hourly, over at most 8 attempts", () => {
    expect(MAX_WEBHOOK_ATTEMPTS).toBe(8);
    const delays = Array.from({ length: MAX_WEBHOOK_ATTEMPTS }, (_, i) => retryDelayMs(i + 1));
    expect(delays).toEqual([30_000, 120_000, 600_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000, 3_600_000]);
    expect(retryDelayMs(0)).toBe(30_000);
    expect(retryDelayMs(100)).toBe(3_600_000);
  });
});
