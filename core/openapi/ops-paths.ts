/** Operations in the OpenAPI document (core/openapi.ts): health, readiness, pipeline metrics, a property's alerts. */
import { z } from "zod";
import { AlertRulesPatchSchema, AlertRulesSchema, AlertSchema, AlertStatusSchema } from "../ops/alerts.ts";
import { OpsMetricsParamsSchema } from "../ops/metrics-report.ts";
import { ReadinessSchema } from "../ops/readiness.ts";
import { errors, inPath, json, KEY_ERRORS, queryParameters } from "./answers.ts";

const answer = (description: string, schema: z.ZodType) => ({
  description,
  content: { "application/json": { schema: json(schema, "output") } },
});

/** As the API shows an alert: its times as ISO strings. */
const ShownAlertSchema = AlertSchema.extend({
  opened_at: z.iso.datetime(),
  resolved_at: z.iso.datetime().nullable(),
  minute: z.iso.datetime(),
});

const AlertListParamsSchema = z.object({
  status: z.union([AlertStatusSchema, z.literal("all")]).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

const NO_WEBHOOK = {
  "409": {
    description: "webhook_not_set: the rules have no webhook URL",
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
};

export function opsPaths() {
  const id = inPath("id");
  return {
    "/healthz": {
      get: {
        summary: "Liveness: the Worker answers (no dependency is asked)",
        security: [],
        responses: { "200": { description: '{"status":"ok"}' } },
      },
    },
    "/readyz": {
      get: {
        summary:
          "Readiness: each dependency with its status and latency; errors' text only with the admin token (cached 5 s)",
        security: [],
        responses: {
          "200": answer("Every required dependency answered", ReadinessSchema),
          "503": answer("A required dependency (ClickHouse, the archive, the queues) did not answer", ReadinessSchema),
        },
      },
    },
    "/api/v1/ops/metrics": {
      get: {
        summary: "Pipeline metrics of the last minutes (admin token): JSON, or Prometheus text with Accept: text/plain",
        parameters: queryParameters(OpsMetricsParamsSchema),
        responses: {
          "200": {
            description: "Counters, timings (p50/p95/p99) and gauges, per minute and over the window",
            content: { "application/json": {}, "text/plain": {} },
          },
          ...errors([400, 401, 429, 503]),
        },
      },
    },
    "/api/v1/properties/{id}/alert-rules": {
      parameters: id,
      get: {
        summary: "A property's alert rules and webhook (never its secret)",
        responses: { "200": answer("{rules}", z.object({ rules: AlertRulesSchema })), ...errors(KEY_ERRORS) },
      },
      put: {
        summary: "Change alert rules; a new webhook URL answers its signing secret, once",
        requestBody: { required: true, content: { "application/json": { schema: json(AlertRulesPatchSchema) } } },
        responses: {
          "200": answer(
            "{rules, webhook_secret?}",
            z.object({ rules: AlertRulesSchema, webhook_secret: z.string().optional() }),
          ),
          ...errors(KEY_ERRORS),
        },
      },
    },
    "/api/v1/properties/{id}/alert-rules/rotate-secret": {
      parameters: id,
      post: {
        summary: "A new webhook signing secret (the old one stops at once), shown once",
        responses: {
          "200": answer("{webhook_secret}", z.object({ webhook_secret: z.string() })),
          ...errors(KEY_ERRORS),
          ...NO_WEBHOOK,
        },
      },
    },
    "/api/v1/properties/{id}/alert-rules/test": {
      parameters: id,
      post: {
        summary: "Send a signed test notification to the webhook now",
        responses: {
          "200": { description: "{delivered, status, error?}" },
          ...errors(KEY_ERRORS),
          ...NO_WEBHOOK,
        },
      },
    },
    "/api/v1/properties/{id}/alerts": {
      parameters: id,
      get: {
        summary: "A property's traffic alerts, newest first",
        parameters: queryParameters(AlertListParamsSchema),
        responses: {
          "200": answer("{alerts}", z.object({ alerts: z.array(ShownAlertSchema) })),
          ...errors(KEY_ERRORS),
        },
      },
    },
  };
}
