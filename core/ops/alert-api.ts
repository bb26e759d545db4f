/**
 * The alerts API's contract (issue #18): the list's query, an alert as the API shows it (times as
 * ISO strings), and the answers of the rules routes. One definition for workers/alerts/routes.ts,
 * the OpenAPI document and the dashboard.
 */
import { z } from "zod";
import { type Alert, AlertRulesSchema, AlertSchema, AlertStatusSchema } from "./alerts.ts";

/** The newest alerts a property's actor keeps, and so the largest `limit`. */
export const MAX_ALERTS_LISTED = 200;

export const AlertListQuerySchema = z.strictObject({
  status: z.union([AlertStatusSchema, z.literal("all")]).default("all"),
  limit: z.coerce.number().int().min(1).max(MAX_ALERTS_LISTED).default(50),
});

const iso = z.string().meta({ description: "ISO 8601, UTC" });

export const AlertViewSchema = AlertSchema.extend({ opened_at: iso, resolved_at: iso.nullable(), minute: iso });
export type AlertView = z.infer<typeof AlertViewSchema>;

export const AlertListSchema = z.object({ alerts: z.array(AlertViewSchema) });

export const AlertRulesAnswerSchema = z.object({
  rules: AlertRulesSchema,
  webhook_secret: z
    .string()
    .optional()
    .meta({ description: "Only in the answer that set the first webhook: the signing secret, shown once" }),
});

export const WebhookSecretSchema = z.object({ webhook_secret: z.string() });

export const WebhookTestSchema = z.object({
  delivered: z.boolean(),
  status: z.number().int().nullable().meta({ description: "The receiver's HTTP status; null when it did not answer" }),
  error: z.string().optional(),
});

const toIso = (ms: number) => new Date(ms).toISOString();

export function alertView(alert: Alert): AlertView {
  return {
    ...alert,
    opened_at: toIso(alert.opened_at),
    resolved_at: alert.resolved_at === null ? null : toIso(alert.resolved_at),
    minute: toIso(alert.minute),
  };
}
