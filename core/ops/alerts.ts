/**
 * Traffic alerts (issue #18): the rules a property configures and the alerts its detector opens and
 * resolves (core/ops/anomaly.ts). Pure: the PropertyDO stores both, the API validates patches here.
 */
import { z } from "zod";
import { hash64 } from "../hash.ts";

export const ALERT_KINDS = ["spike", "drop", "silence", "bot_share", "refused", "source_vanished"] as const;
export const AlertKindSchema = z.enum(ALERT_KINDS);
export type AlertKind = z.infer<typeof AlertKindSchema>;

export const ALERT_METRICS = ["pageviews", "visitors", "bot_share", "refused_share", "source"] as const;
export const AlertMetricSchema = z.enum(ALERT_METRICS);
export type AlertMetric = z.infer<typeof AlertMetricSchema>;

/** Hosts a webhook may reach over plain http: a receiver on the operator's own machine. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** https anywhere; http only to a loopback receiver (local testing), never credentials in the URL. */
export const WebhookUrlSchema = z
  .string()
  .max(2048)
  .refine((value) => {
    const url = URL.parse(value);
    if (!url || url.username || url.password) return false;
    return url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname));
  }, "must be an https URL (http only for localhost) without credentials");

export const WebhookFormatSchema = z.enum(["json", "slack"]);
export type WebhookFormat = z.infer<typeof WebhookFormatSchema>;

export const WebhookTargetSchema = z.strictObject({
  url: WebhookUrlSchema,
  format: WebhookFormatSchema.default("json"),
});
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

/** Each rule's own bounds, without defaults: shared by the full schema and the patch. */
const RULE_FIELDS = {
  enabled: z.boolean(),
  /** z-score a minute must pass (Poisson-aware, see anomaly.ts). */
  threshold: z.number().min(2).max(20),
  /** k: consecutive anomalous minutes before an alert opens (and normal ones before it resolves). */
  consecutive_minutes: z.int().min(1).max(60),
  /** Below this expected rate no spike, drop or silence alerts: a tiny site's minutes are noise. */
  min_pageviews_per_minute: z.number().min(0).max(1_000_000),
  silence_minutes: z.int().min(5).max(1440),
  bot_share_jump: z.number().min(0).max(1),
  refused_share_jump: z.number().min(0).max(1),
  source_min_share: z.number().min(0).max(1),
  kinds: z.array(AlertKindSchema).max(ALERT_KINDS.length),
  /** Opened-alert notifications per 24 h (Plausible sends at most 2); resolved notices are extra. */
  max_per_day: z.int().min(0).max(100),
  webhook: WebhookTargetSchema.nullable(),
};

export const DEFAULT_ALERT_RULES = {
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
} as const;

/** A property's alert rules; every field defaulted, so `AlertRulesSchema.parse({})` is the default set. */
export const AlertRulesSchema = z.object({
  enabled: RULE_FIELDS.enabled.default(DEFAULT_ALERT_RULES.enabled),
  threshold: RULE_FIELDS.threshold.default(DEFAULT_ALERT_RULES.threshold),
  consecutive_minutes: RULE_FIELDS.consecutive_minutes.default(DEFAULT_ALERT_RULES.consecutive_minutes),
  min_pageviews_per_minute: RULE_FIELDS.min_pageviews_per_minute.default(DEFAULT_ALERT_RULES.min_pageviews_per_minute),
  silence_minutes: RULE_FIELDS.silence_minutes.default(DEFAULT_ALERT_RULES.silence_minutes),
  bot_share_jump: RULE_FIELDS.bot_share_jump.default(DEFAULT_ALERT_RULES.bot_share_jump),
  refused_share_jump: RULE_FIELDS.refused_share_jump.default(DEFAULT_ALERT_RULES.refused_share_jump),
  source_min_share: RULE_FIELDS.source_min_share.default(DEFAULT_ALERT_RULES.source_min_share),
  kinds: RULE_FIELDS.kinds.default(() => [...ALERT_KINDS]),
  max_per_day: RULE_FIELDS.max_per_day.default(DEFAULT_ALERT_RULES.max_per_day),
  webhook: RULE_FIELDS.webhook.default(null),
});
export type AlertRules = z.infer<typeof AlertRulesSchema>;

/** A change to the rules: any subset of fields; an unknown field is an error naming it. */
export const AlertRulesPatchSchema = z.strictObject(RULE_FIELDS).partial();
export type AlertRulesPatch = z.infer<typeof AlertRulesPatchSchema>;

/** The rules after a patch (`webhook: null` removes the webhook; kinds are kept unique). */
export function applyRulesPatch(rules: AlertRules, patch: AlertRulesPatch): AlertRules {
  const merged = AlertRulesSchema.parse({ ...rules, ...patch });
  return { ...merged, kinds: [...new Set(merged.kinds)] };
}

export const AlertStatusSchema = z.enum(["open", "resolved"]);

export const AlertSchema = z.object({
  alert_id: z.string(),
  property_id: z.string(),
  kind: AlertKindSchema,
  metric: AlertMetricSchema,
  /** The source's name for source_vanished, else "". */
  subject: z.string(),
  status: AlertStatusSchema,
  /** ms; the end of the minute that tripped it (deterministic, so a retried step agrees). */
  opened_at: z.number(),
  resolved_at: z.number().nullable(),
  /** ms; the start of the minute that tripped it. */
  minute: z.number(),
  observed: z.number(),
  expected: z.number(),
  /** z-score for spike and drop, share delta for bot_share and refused, minutes for silence. */
  deviation: z.number(),
  /** One human sentence, e.g. "Pageviews spiked: 412 a minute against about 40 expected". */
  message: z.string(),
});
export type Alert = z.infer<typeof AlertSchema>;

/** A deterministic id: the same property, kind, subject and minute always give the same alert. */
export function alertId(propertyId: string, kind: AlertKind, subject: string, minute: number): string {
  const [hi, lo] = hash64(`${propertyId}\u0000${kind}\u0000${subject}\u0000${minute}`);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return `al_${Math.floor(minute / 60_000).toString(36)}_${hex(hi)}${hex(lo)}`;
}
