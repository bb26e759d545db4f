/** The traffic alerts' routes (workers/alerts/routes.ts) in the OpenAPI document (core/openapi.ts). */
import type { z } from "zod";
import {
  AlertListQuerySchema,
  AlertListSchema,
  AlertRulesAnswerSchema,
  WebhookSecretSchema,
  WebhookTestSchema,
} from "../ops/alert-api.ts";
import { AlertRulesPatchSchema } from "../ops/alerts.ts";
import { errors, inPath, json, KEY_ERRORS, queryParameters } from "./answers.ts";

const answer = (description: string, schema: z.ZodType) => ({
  description,
  content: { "application/json": { schema: json(schema, "output") } },
});
const NO_WEBHOOK = { 409: "webhook_not_set: the rules have no webhook URL" };
const BASE = "/api/v1/properties/{id}";

export function alertPaths() {
  return {
    [`${BASE}/alert-rules`]: {
      parameters: inPath("id"),
      get: {
        summary: "The property's alert rules; the webhook's URL, never its secret",
        responses: { "200": answer("{rules}", AlertRulesAnswerSchema), ...errors(KEY_ERRORS) },
      },
      put: {
        summary:
          "Change the alert rules (any subset of fields; webhook null removes it). The answer that sets the first webhook carries its signing secret, once",
        requestBody: { required: true, content: { "application/json": { schema: json(AlertRulesPatchSchema) } } },
        responses: { "200": answer("{rules, webhook_secret?}", AlertRulesAnswerSchema), ...errors(KEY_ERRORS) },
      },
    },
    [`${BASE}/alert-rules/rotate-secret`]: {
      parameters: inPath("id"),
      post: {
        summary: "A new webhook signing secret, shown once; the old one stops signing at once",
        responses: {
          "200": answer("{webhook_secret}", WebhookSecretSchema),
          ...errors([...KEY_ERRORS, 409], NO_WEBHOOK),
        },
      },
    },
    [`${BASE}/alert-rules/test`]: {
      parameters: inPath("id"),
      post: {
        summary:
          'Send a signed test notification to the webhook now (header Tally-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">)',
        responses: {
          "200": answer("What the receiver answered", WebhookTestSchema),
          ...errors([...KEY_ERRORS, 409], NO_WEBHOOK),
        },
      },
    },
    [`${BASE}/alerts`]: {
      parameters: inPath("id"),
      get: {
        summary: "The property's traffic alerts (the last 200 kept), newest first",
        parameters: queryParameters(AlertListQuerySchema),
        responses: { "200": answer("{alerts:[…]}", AlertListSchema), ...errors(KEY_ERRORS) },
      },
    },
  };
}
