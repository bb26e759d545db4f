/**
 * The Alerts page's contract with `workers/alerts/routes.ts` (types from core/ops/alerts.ts, times
 * as the API writes them) and the words for each kind. Pure: unit-tested without a browser.
 */
import type { Alert, AlertKind, AlertRules } from "../../../../../core/ops/alerts.ts";

export type { AlertKind, AlertRules };

/** An alert as the API answers it: times as ISO strings. */
export type ShownAlert = Omit<Alert, "opened_at" | "resolved_at" | "minute"> & {
  opened_at: string;
  resolved_at: string | null;
  minute: string;
};

export interface RulesAnswer {
  rules: AlertRules;
  /** Only in the answer of the PUT that set a webhook (or of rotate-secret): shown once. */
  webhook_secret?: string;
}

export interface TestAnswer {
  delivered: boolean;
  status: number | null;
  error?: string;
}

/** Every kind the detector knows, in the order the form offers them (typed: a new kind needs words here). */
export const KIND_LABELS: Record<AlertKind, string> = {
  spike: "Traffic spike",
  drop: "Traffic drop",
  silence: "Tracking stopped (a busy site went silent)",
  bot_share: "Bot share jumped",
  refused: "Refused events jumped",
  source_vanished: "A main traffic source vanished",
};
export const KINDS = Object.keys(KIND_LABELS) as AlertKind[];

export const kindLabel = (kind: string) => KIND_LABELS[kind as AlertKind] ?? kind;

/** Open alerts first (newest first), then the resolved ones (newest first). */
export function orderAlerts(alerts: readonly ShownAlert[]): { open: ShownAlert[]; history: ShownAlert[] } {
  const newest = (a: ShownAlert, b: ShownAlert) => (a.opened_at < b.opened_at ? 1 : a.opened_at > b.opened_at ? -1 : 0);
  return {
    open: alerts.filter((a) => a.status === "open").sort(newest),
    history: alerts.filter((a) => a.status !== "open").sort(newest),
  };
}

/** How long an alert lasted (or has lasted, by `now`): "12 min", "3 h 5 min", "2 d 4 h". */
export function alertDuration(alert: Pick<ShownAlert, "opened_at" | "resolved_at">, now: number): string {
  const end = alert.resolved_at ? Date.parse(alert.resolved_at) : now;
  const minutes = Math.max(0, Math.round((end - Date.parse(alert.opened_at)) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

/** The form's fields an API message can name, by the first part of its path. */
export const FORM_FIELDS = [
  "enabled",
  "threshold",
  "consecutive_minutes",
  "min_pageviews_per_minute",
  "silence_minutes",
  "bot_share_jump",
  "refused_share_jump",
  "source_min_share",
  "kinds",
  "max_per_day",
  "webhook.url",
  "webhook.format",
  "webhook",
] as const;

/**
 * The API names each bad field in its message (`threshold: must be …; webhook.url: must be …`, see
 * core/issues.ts): split into messages per form field; what names no field stays in `rest`.
 */
export function fieldErrors(message: string): { fields: Record<string, string>; rest: string[] } {
  const fields: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of message.split("; ")) {
    const at = part.indexOf(": ");
    const path = at > 0 ? part.slice(0, at) : "";
    const field = FORM_FIELDS.find((f) => path === f || path.startsWith(`${f}[`) || path.startsWith(`${f}.`));
    if (field) fields[field] = fields[field] ? `${fields[field]}; ${part.slice(at + 2)}` : part.slice(at + 2);
    else if (part.trim()) rest.push(part);
  }
  return { fields, rest };
}
