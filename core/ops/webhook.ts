/**
 * Alert webhooks (issue #18): the bodies (generic JSON, Slack-compatible text), their signature,
 * the daily cap and the retry schedule. Pure apart from WebCrypto's HMAC; the PropertyDO delivers.
 *
 * Signature (Stripe-style, for receivers): header `Tally-Signature: t=<unix seconds>,v1=<hex>` where
 * hex = HMAC-SHA256(secret, "<t>.<raw body>"). A receiver recomputes it over the raw body and rejects
 * a timestamp more than 5 minutes away from its clock (replays).
 */
import { DAY_MS } from "../time.ts";
import type { Alert, WebhookFormat } from "./alerts.ts";

export const WEBHOOK_SIGNATURE_HEADER = "Tally-Signature";
export const MAX_WEBHOOK_ATTEMPTS = 8;

/** Waits after the 1st, 2nd, 3rd failed attempt; every later one waits the last (an hour). */
const RETRY_DELAYS_MS = [30_000, 120_000, 600_000] as const;
const MAX_RETRY_DELAY_MS = 3_600_000;

const encoder = new TextEncoder();

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function headline(alert: Alert): string {
  if (alert.status === "resolved") return `Resolved: ${alert.message}`;
  return alert.message;
}

/** The request body for one alert notice; `now` stamps `sent_at` (ms). */
export function webhookBody(alert: Alert, format: WebhookFormat, dashboardUrl?: string, now?: number): string {
  if (format === "slack") {
    const icon = alert.status === "resolved" ? ":white_check_mark:" : ":rotating_light:";
    const link = dashboardUrl ? ` <${dashboardUrl}|Open the dashboard>` : "";
    return JSON.stringify({ text: `${icon} Tally ${alert.property_id}: ${headline(alert)}.${link}` });
  }
  return JSON.stringify({
    type: alert.status === "resolved" ? "alert.resolved" : "alert.opened",
    property_id: alert.property_id,
    alert: {
      ...alert,
      opened_at: iso(alert.opened_at),
      resolved_at: iso(alert.resolved_at),
      minute: iso(alert.minute),
    },
    ...(dashboardUrl ? { dashboard_url: dashboardUrl } : {}),
    sent_at: iso(now ?? alert.resolved_at ?? alert.opened_at),
  });
}

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `Tally-Signature` header value for a body sent at `timestamp` (ms). */
export async function signWebhook(secret: string, timestamp: number, body: string): Promise<string> {
  const t = Math.floor(timestamp / 1000);
  return `t=${t},v1=${await hmacHex(secret, `${t}.${body}`)}`;
}

/** Compares without an early exit, so the time taken does not reveal the first differing digit. */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** What a receiver does: true when the header signs this body and its time is within tolerance of `now` (ms). */
export async function verifyWebhookSignature(
  secret: string,
  header: string,
  body: string,
  now: number,
  toleranceSeconds = 300,
): Promise<boolean> {
  const parts = new Map<string, string[]>();
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    parts.set(name, [...(parts.get(name) ?? []), part.slice(eq + 1).trim()]);
  }
  const t = parts.get("t")?.[0];
  if (!t || !/^\d{1,12}$/.test(t)) return false;
  if (Math.abs(now / 1000 - Number(t)) > toleranceSeconds) return false;
  const expected = await hmacHex(secret, `${t}.${body}`);
  return (parts.get("v1") ?? []).some((candidate) => sameText(candidate, expected));
}

/** True when one more opened-alert notification fits: fewer than maxPerDay sent in the 24 h before `now`. */
export function admitNotification(sentTimes: readonly number[], now: number, maxPerDay: number): boolean {
  return recentSends(sentTimes, now).length < maxPerDay;
}

/** The send times still inside the 24 h window (what the caller keeps). */
export function recentSends(sentTimes: readonly number[], now: number): number[] {
  return sentTimes.filter((t) => t > now - DAY_MS && t <= now);
}

/** The wait before the next try after `attempt` failed attempts (1-based): 30 s, 2 min, 10 min, then 1 h. */
export function retryDelayMs(attempt: number): number {
  return RETRY_DELAYS_MS[Math.max(Math.floor(attempt), 1) - 1] ?? MAX_RETRY_DELAY_MS;
}
