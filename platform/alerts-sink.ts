/**
 * The traffic alerts' two ways out of the PropertyDO (issue #18): rows into ClickHouse `alerts`
 * (migration 0010) as the writing user, and signed webhook POSTs. Both are called from the actor's
 * alarm with its outboxes, never on the live commit's path.
 */
import { toClickHouseDateTime } from "../core/clickhouse-row.ts";
import type { Config } from "../core/config.ts";
import type { Alert, WebhookFormat } from "../core/ops/alerts.ts";
import { signWebhook, WEBHOOK_SIGNATURE_HEADER, webhookBody } from "../core/ops/webhook.ts";
import { clickHouseClient, insertSettings } from "./clickhouse.ts";

/** The `alerts` table's columns in order, as migration 0010 declares them (held by the contract test). */
export const ALERT_COLUMNS = {
  property_id: "LowCardinality(String)",
  alert_id: "String",
  kind: "LowCardinality(String)",
  metric: "LowCardinality(String)",
  subject: "String",
  status: "LowCardinality(String)",
  opened_at: "DateTime64(3, 'UTC')",
  resolved_at: "Nullable(DateTime64(3, 'UTC'))",
  minute: "DateTime64(3, 'UTC')",
  observed: "Float64",
  expected: "Float64",
  deviation: "Float64",
  message: "String",
  version: "UInt8",
} as const;

export type AlertRow = Record<keyof typeof ALERT_COLUMNS, string | number | null>;

/** An alert as its row: a resolved one has the higher version, so it replaces the open one. */
export function alertRow(alert: Alert): AlertRow {
  return {
    property_id: alert.property_id,
    alert_id: alert.alert_id,
    kind: alert.kind,
    metric: alert.metric,
    subject: alert.subject,
    status: alert.status,
    opened_at: toClickHouseDateTime(alert.opened_at),
    resolved_at: alert.resolved_at === null ? null : toClickHouseDateTime(alert.resolved_at),
    minute: toClickHouseDateTime(alert.minute),
    observed: alert.observed,
    expected: alert.expected,
    deviation: alert.deviation,
    message: alert.message,
    version: alert.status === "resolved" ? 2 : 1,
  };
}

/** One insert per alert version, its token derived from it: a retry after a lost answer is dropped. */
export async function insertAlert(config: Config, alert: Alert): Promise<void> {
  await clickHouseClient(config).insert({
    table: "alerts",
    values: [alertRow(alert)],
    format: "JSONEachRow",
    clickhouse_settings: {
      insert_deduplication_token: `alert:${alert.property_id}:${alert.alert_id}:${alert.status}`,
      async_insert: 0,
      ...insertSettings(config),
    },
  });
}

export interface WebhookTarget {
  url: string;
  format: WebhookFormat;
  secret: string;
}

/** What one POST came to: delivered on a 2xx; `status` null when no answer came (timeout, refused). */
export interface DeliveryResult {
  delivered: boolean;
  status: number | null;
  error?: string;
}

export const WEBHOOK_TIMEOUT_MS = 10_000;

/** POSTs one signed notice. Redirects are not followed: a receiver moved is a failure to fix, not to chase. */
export async function postWebhook(
  target: WebhookTarget,
  alert: Alert,
  now: number,
  dashboardUrl?: string,
): Promise<DeliveryResult> {
  const body = webhookBody(alert, target.format, dashboardUrl, now);
  try {
    const res = await fetch(target.url, {
      method: "POST",
      redirect: "manual",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "Tally-Alerts/1",
        [WEBHOOK_SIGNATURE_HEADER]: await signWebhook(target.secret, now, body),
      },
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    // The receiver's answer is not ours to keep; reading it frees the connection.
    await res.body?.cancel();
    if (res.ok) return { delivered: true, status: res.status };
    return { delivered: false, status: res.status, error: `the receiver answered ${res.status}` };
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
    const why = timedOut
      ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s`
      : error instanceof Error
        ? error.message
        : String(error);
    return { delivered: false, status: null, error: why.slice(0, 200) };
  }
}
