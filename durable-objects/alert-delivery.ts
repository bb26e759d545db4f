/**
 * The PropertyDO's alert outbox, drained by its alarm (issue #18): alert rows into ClickHouse
 * (retried on the next alarm) and signed webhook notices (retried on retryDelayMs up to
 * MAX_WEBHOOK_ATTEMPTS), plus the webhook's secret and the test notification. Network calls run
 * outside any read-modify-write: the results are applied to the outbox as it is afterwards, since
 * a commit may have queued more while a receiver was slow.
 */
import { type Alert, type AlertRules, type AlertRulesPatch, applyRulesPatch } from "../core/ops/alerts.ts";
import { MAX_WEBHOOK_ATTEMPTS, retryDelayMs } from "../core/ops/webhook.ts";
import { minuteOf } from "../core/session/window.ts";
import { MINUTE_MS } from "../core/time.ts";
import { type DeliveryResult, insertAlert, postWebhook } from "../platform/alerts-sink.ts";
import { loadConfig } from "../platform/config.ts";
import { errorFields, log } from "../platform/log.ts";
import { countMetric } from "../platform/ops-metrics.ts";
import { type Delivery, type Outbox, readOutbox, readRules } from "./alert-detection.ts";

type Store = DurableObjectStorage;

const versionKey = (a: Alert) => `${a.alert_id}:${a.status}`;

/** A new signing secret: 32 random bytes, base64url, after `whsec_`. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const base64 = btoa(String.fromCharCode(...bytes));
  return `whsec_${base64.replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "")}`;
}

/** Applies a patch; the first webhook set gets a secret, answered this once. Removing the webhook forgets it. */
export async function writeRules(
  storage: Store,
  patch: AlertRulesPatch,
): Promise<{ rules: AlertRules; webhook_secret?: string }> {
  const rules = applyRulesPatch(await readRules(storage), patch);
  const secret = rules.webhook && !(await storage.get<string>("alerts:secret")) ? newWebhookSecret() : undefined;
  await storage.put({ "alerts:rules": rules, ...(secret ? { "alerts:secret": secret } : {}) });
  if (!rules.webhook) await storage.delete("alerts:secret");
  return { rules, ...(secret ? { webhook_secret: secret } : {}) };
}

/** A new secret for the webhook (the old one stops signing at once); "no_webhook" without one. */
export async function rotateSecret(storage: Store): Promise<string | "no_webhook"> {
  if (!(await readRules(storage)).webhook) return "no_webhook";
  const secret = newWebhookSecret();
  await storage.put("alerts:secret", secret);
  return secret;
}

async function webhookTarget(storage: Store) {
  const [rules, secret] = await Promise.all([readRules(storage), storage.get<string>("alerts:secret")]);
  return rules.webhook && secret ? { ...rules.webhook, secret } : null;
}

/** Sends a signed notice of a made-up alert now, so an owner sees their receiver work (or why not). */
export async function sendTest(
  storage: Store,
  propertyId: string,
  now: number,
): Promise<DeliveryResult | "no_webhook"> {
  const target = await webhookTarget(storage);
  if (!target) return "no_webhook";
  const alert: Alert = {
    alert_id: `test_${now.toString(36)}`,
    property_id: propertyId,
    kind: "spike",
    metric: "pageviews",
    subject: "",
    status: "open",
    opened_at: now,
    resolved_at: null,
    minute: minuteOf(now),
    observed: 0,
    expected: 0,
    deviation: 0,
    message: "Test notification from Tally: this webhook receives the property's traffic alerts",
  };
  return postWebhook(target, alert, now);
}

/** Inserts the pending rows in order until one fails; returns those stored and whether one failed. */
async function insertRows(env: Env, outbox: Outbox, propertyId: string, now: number) {
  const done = new Set<string>();
  if (outbox.rows.length === 0 || outbox.rows_due > now) return { done, failed: false };
  const config = loadConfig(env);
  for (const alert of outbox.rows) {
    try {
      await insertAlert(config, alert);
      done.add(versionKey(alert));
    } catch (error) {
      log.warn("alert rows not stored in ClickHouse; retried on the next alarm", {
        property_id: propertyId,
        pending: outbox.rows.length - done.size,
        ...errorFields(error),
      });
      return { done, failed: true };
    }
  }
  return { done, failed: false };
}

/** What became of a delivery tried now: gone (sent, given up, or no webhook any more) or kept for later. */
function settle(d: Delivery, result: DeliveryResult | "dropped", propertyId: string, now: number): Delivery | null {
  if (result === "dropped") return null;
  if (result.delivered) {
    countMetric("webhook_deliveries", { result: "ok" });
    return null;
  }
  const attempts = d.attempts + 1;
  if (attempts >= MAX_WEBHOOK_ATTEMPTS) {
    countMetric("webhook_deliveries", { result: "failed" });
    log.warn("alert webhook given up", {
      property_id: propertyId,
      alert_id: d.alert.alert_id,
      attempts,
      status: result.status,
      reason: result.error,
    });
    return null;
  }
  countMetric("webhook_deliveries", { result: "retry" });
  return { ...d, attempts, due: now + retryDelayMs(attempts) };
}

/** The alarm's part for the alerts: stores pending rows and sends due notices; false when nothing was due. */
export async function drainOutbox(storage: Store, env: Env, propertyId: string, now: number): Promise<boolean> {
  const outbox = await readOutbox(storage);
  const due = outbox.deliveries.filter((d) => d.due <= now);
  if (due.length === 0 && (outbox.rows.length === 0 || outbox.rows_due > now)) return false;
  const rows = await insertRows(env, outbox, propertyId, now);
  const target = await webhookTarget(storage);
  const results = new Map<string, DeliveryResult | "dropped">();
  for (const d of due)
    results.set(versionKey(d.alert), target ? await postWebhook(target, d.alert, Date.now()) : "dropped");
  // Read again: a commit may have queued more while we waited on the network (or a deletion wiped it all).
  if (await storage.get("tombstone")) return true;
  const current = await readOutbox(storage);
  const deliveries: Delivery[] = [];
  for (const d of current.deliveries) {
    const result = results.get(versionKey(d.alert));
    const kept = result === undefined ? d : settle(d, result, propertyId, now);
    if (kept) deliveries.push(kept);
  }
  await storage.put("alerts:outbox", {
    ...current,
    rows: current.rows.filter((a) => !rows.done.has(versionKey(a))),
    rows_due: rows.failed ? now + MINUTE_MS : current.rows_due,
    deliveries,
  } satisfies Outbox);
  return true;
}
