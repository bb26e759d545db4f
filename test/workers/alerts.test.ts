/**
 * Traffic alerts in workerd (issue #18): the rules API over the real Worker and PropertyDO; a spike
 * fed through the actor's applyLive at controlled times opens an alert that the API lists and the
 * alarm stores in ClickHouse `alerts`; a busy site gone silent is noticed by the alarm with no
 * traffic at all; a minute's detection costs one storage row.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AlertRulesSchema } from "../../core/ops/alerts.ts";
import { feedMinutes, listAlerts, MINUTE, minuteItems, minuteOf, putRules } from "./alert-support.ts";
import { ADMIN, type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

let property: CreatedProperty;
let other: CreatedProperty;
const clickhouse = createClient({ url: env.CLICKHOUSE_URL, database: env.CLICKHOUSE_DATABASE });

beforeAll(async () => {
  property = await createProperty({ property_id: "UA-ALERTS-1" });
  other = await createProperty({ property_id: "UA-ALERTS-2" });
});

afterAll(async () => {
  await clickhouse.close();
});

const rulesPath = (id: string) => `/api/v1/properties/${id}/alert-rules`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function storedAlerts(propertyId: string) {
  const result = await clickhouse.query({
    query:
      "SELECT alert_id, kind, status, observed, toUnixTimestamp64Milli(opened_at) AS opened_at FROM alerts FINAL WHERE property_id = {p:String} ORDER BY opened_at",
    query_params: { p: propertyId },
    format: "JSONEachRow",
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
  });
  return result.json<{ alert_id: string; kind: string; status: string; observed: number; opened_at: number }>();
}

describe("alert rules API", () => {
  it("answers the defaults for a property that never set any, to its own API key", async () => {
    const res = await call(rulesPath(property.property_id), { headers: bearer(property.api_key) });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ rules: AlertRulesSchema.parse({}) });
  }, 60_000);

  it("sets a webhook, answers its secret once, and never shows it again", async () => {
    const res = await putRules(property.property_id, {
      threshold: 6,
      webhook: { url: "https://hooks.test/tally", format: "slack" },
    });
    expect(res.status).toBe(200);
    const body = await res.json<{ rules: Record<string, unknown>; webhook_secret: string }>();
    expect(body.rules).toMatchObject({ threshold: 6, webhook: { url: "https://hooks.test/tally", format: "slack" } });
    expect(body.webhook_secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);

    const again = await putRules(property.property_id, { consecutive_minutes: 2 });
    const second = await again.json<Record<string, unknown>>();
    expect(second).not.toHaveProperty("webhook_secret");
    expect(second.rules).toMatchObject({ threshold: 6, consecutive_minutes: 2 });
    const read = await (await call(rulesPath(property.property_id), { headers: ADMIN })).text();
    expect(read).not.toContain(body.webhook_secret);
    expect(JSON.parse(read).rules).toMatchObject({
      threshold: 6,
      consecutive_minutes: 2,
      webhook: { format: "slack" },
    });

    const rotated = await call(`${rulesPath(property.property_id)}/rotate-secret`, { method: "POST", headers: ADMIN });
    expect(rotated.status).toBe(200);
    const { webhook_secret } = await rotated.json<{ webhook_secret: string }>();
    expect(webhook_secret).toMatch(/^whsec_/);
    expect(webhook_secret).not.toBe(body.webhook_secret);
  }, 60_000);

  it("forgets the secret with the webhook; rotating or testing without one is a 409", async () => {
    expect((await putRules(other.property_id, { webhook: { url: "https://hooks.test/x" } })).status).toBe(200);
    const removed = await putRules(other.property_id, { webhook: null });
    expect((await removed.json<{ rules: { webhook: unknown } }>()).rules.webhook).toBeNull();
    for (const action of ["rotate-secret", "test"]) {
      const res = await call(`${rulesPath(other.property_id)}/${action}`, { method: "POST", headers: ADMIN });
      expect(res.status).toBe(409);
      expect((await envelope(res)).error.code).toBe("webhook_not_set");
    }
    const again = await putRules(other.property_id, { webhook: { url: "https://hooks.test/y" } });
    expect(await again.json()).toHaveProperty("webhook_secret");
  }, 60_000);

  it("refuses bad rules with a 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{ threshold: 1 }, "threshold"],
      [{ consecutive_minutes: 2.5 }, "consecutive_minutes"],
      [{ kinds: ["spike", "weather"] }, "kinds[1]"],
      [{ webhook: { url: "http://example.com/hook" } }, "webhook.url"],
      [{ webhook: { url: "https://user:pw@example.com/hook" } }, "webhook.url"],
      [{ webhook: { url: "https://example.com/hook", format: "xml" } }, "webhook.format"],
      [{ thresold: 5 }, "thresold"],
    ];
    for (const [patch, field] of cases) {
      const res = await putRules(property.property_id, patch as Record<string, unknown>);
      expect(res.status, JSON.stringify(patch)).toBe(400);
      expect((await envelope(res)).error.message, JSON.stringify(patch)).toContain(field);
    }
    const notJson = await call(rulesPath(property.property_id), { method: "PUT", headers: ADMIN, body: "{" });
    expect((await envelope(notJson)).error.code).toBe("invalid_json");
  }, 60_000);

  it("refuses a bad list query naming the parameter", async () => {
    for (const [query, field] of [
      ["?status=closed", "status"],
      ["?limit=0", "limit"],
      ["?limit=201", "limit"],
      ["?since=1", "since"],
    ]) {
      const res = await call(`/api/v1/properties/${property.property_id}/alerts${query}`, { headers: ADMIN });
      expect(res.status, query).toBe(400);
      expect((await envelope(res)).error.message).toContain(field);
    }
  }, 60_000);

  it("answers 404 property_not_found, 401 without a key and 403 to another property's key", async () => {
    for (const path of [rulesPath("UA-NOPE-1"), "/api/v1/properties/UA-NOPE-1/alerts"]) {
      const res = await call(path, { headers: ADMIN });
      expect(res.status).toBe(404);
      expect((await envelope(res)).error.code).toBe("property_not_found");
    }
    expect((await putRules("UA-NOPE-1", { threshold: 5 })).status).toBe(404);
    expect((await call(rulesPath(property.property_id))).status).toBe(401);
    const foreign = await call(`/api/v1/properties/${property.property_id}/alerts`, {
      headers: bearer(other.api_key),
    });
    expect(foreign.status).toBe(403);
  }, 60_000);
});

describe("detection on the PropertyDO", () => {
  it("opens a spike alert fed through applyLive, lists it, and stores it in ClickHouse", async () => {
    const id = "UA-ALERTS-SPIKE";
    await createProperty({ property_id: id });
    expect((await putRules(id, { threshold: 5, consecutive_minutes: 2 })).status).toBe(200);
    // Controlled times an hour ahead of the clock: the alarm (wall clock) finds no minute of them
    // to observe, only the outbox to drain.
    const start = minuteOf(Date.now()) + 60 * MINUTE;
    await feedMinutes(id, start, 0, 74, () => 10);
    expect(await listAlerts(id)).toEqual([]);
    await feedMinutes(id, start, 75, 76, () => 80);
    await feedMinutes(id, start, 77, 80, () => 10);

    const [spike, ...rest] = await listAlerts(id);
    expect(rest).toEqual([]);
    expect(spike).toMatchObject({
      kind: "spike",
      status: "open",
      minute: new Date(start + 76 * MINUTE).toISOString(),
      resolved_at: null,
    });
    expect(spike?.message).toMatch(/spiked/);
    expect(await listAlerts(id, "?status=resolved")).toEqual([]);

    await runDurableObjectAlarm(env.PROPERTY_DO.getByName(id));
    await vi.waitFor(async () => expect(await storedAlerts(id)).toHaveLength(1), { timeout: 10_000 });
    expect((await storedAlerts(id))[0]).toMatchObject({
      alert_id: spike?.alert_id,
      kind: "spike",
      status: "open",
      opened_at: Date.parse(spike?.opened_at ?? ""),
    });

    // Back to normal for k minutes: resolved, in the list and (replacing the open row) in ClickHouse.
    await feedMinutes(id, start, 81, 84, () => 10);
    const [resolved] = await listAlerts(id, "?status=resolved");
    expect(resolved).toMatchObject({ alert_id: spike?.alert_id, status: "resolved" });
    expect(Date.parse(resolved?.resolved_at ?? "")).toBeGreaterThan(Date.parse(resolved?.opened_at ?? ""));
    expect(await listAlerts(id, "?status=open")).toEqual([]);
    await runDurableObjectAlarm(env.PROPERTY_DO.getByName(id));
    await vi.waitFor(async () => expect((await storedAlerts(id))[0]?.status).toBe("resolved"), { timeout: 10_000 });
    expect(await storedAlerts(id)).toHaveLength(1);
  }, 60_000);

  it("costs one storage row per closed minute, none for a batch within the same minute", async () => {
    const id = "UA-ALERTS-COST";
    await createProperty({ property_id: id });
    const start = minuteOf(Date.now()) + 30 * MINUTE;
    await feedMinutes(id, start, 0, 5, () => 3);
    const stub = env.PROPERTY_DO.getByName(id);
    const minute = start + 6 * MINUTE;
    // One window written; minute 3 closes (two minutes late): the detector's one key.
    expect(await stub.applyLive(minuteItems(id, minute, 1), [], minute + 1_000)).toBe(2);
    // Same minute again: the window only.
    expect(await stub.applyLive(minuteItems(id, minute + 2_000, 1), [], minute + 3_000)).toBe(1);
  }, 60_000);

  it("notices a busy site gone silent on the alarm, with no traffic", async () => {
    const id = "UA-ALERTS-SILENT";
    await createProperty({ property_id: id });
    // Without the silence kinds nothing is watched, so no alarm runs while the past is fed.
    expect((await putRules(id, { kinds: ["spike", "drop"], silence_minutes: 5 })).status).toBe(200);
    const start = minuteOf(Date.now()) - 100 * MINUTE;
    await feedMinutes(id, start, 0, 79, () => 10);
    const stub = env.PROPERTY_DO.getByName(id);
    expect(await stub.listAlerts("all", 50)).toEqual([]);

    // Watching silence now: the rules arm the alarm, which observes the twenty quiet minutes since.
    expect((await putRules(id, { kinds: ["spike", "drop", "silence"] })).status).toBe(200);
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect((await listAlerts(id)).map((a) => a.kind)).toEqual(["silence"]), {
      timeout: 10_000,
    });
    const [silence] = await listAlerts(id);
    expect(silence?.message).toMatch(/Tracking stopped/);
    // Still watched (it resolves when traffic returns): the alarm stays armed.
    await vi.waitFor(async () => expect(await stubAlarm(id)).not.toBeNull());
  }, 60_000);
});

async function stubAlarm(id: string): Promise<number | null> {
  return runInDurableObject(env.PROPERTY_DO.getByName(id), (_instance, state) => state.storage.getAlarm());
}
