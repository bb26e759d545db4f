/**
 * Traffic alerts of a property (issue #18; admin token or the property's API key): its rules and
 * webhook, a signed test notification, and the alerts its PropertyDO opened and resolved. The
 * webhook's signing secret is answered once, by the PUT that first sets a webhook or by rotate-secret.
 */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { describeIssues, toFieldIssues } from "../../core/issues.ts";
import { AlertListQuerySchema, alertView } from "../../core/ops/alert-api.ts";
import { AlertRulesPatchSchema } from "../../core/ops/alerts.ts";
import { propertyStub } from "../../platform/properties.ts";
import { propertyAccess } from "../auth.ts";
import { parseJson } from "../json.ts";

export const alertRoutes = new Hono<{ Bindings: Env }>();

for (const path of ["/api/v1/properties/:id/alert-rules/*", "/api/v1/properties/:id/alerts/*"])
  alertRoutes.use(path, propertyAccess());

function notFound(id: string): AppError {
  return new AppError("property_not_found", 404, `property ${id} does not exist`);
}

function noWebhook(): AppError {
  return new AppError("webhook_not_set", 409, "webhook: set a webhook URL in the alert rules first");
}

alertRoutes.get("/api/v1/properties/:id/alert-rules", async function readRules(c) {
  const id = c.req.param("id");
  const rules = await propertyStub(c.env, id).alertRules();
  if (!rules) throw notFound(id);
  return c.json({ rules });
});

alertRoutes.put("/api/v1/properties/:id/alert-rules", async function changeRules(c) {
  const id = c.req.param("id");
  const patch = await parseJson(c.req.raw, AlertRulesPatchSchema);
  const result = await propertyStub(c.env, id).setAlertRules(patch);
  if (!result) throw notFound(id);
  return c.json(result);
});

alertRoutes.post("/api/v1/properties/:id/alert-rules/rotate-secret", async function rotateSecret(c) {
  const id = c.req.param("id");
  const result = await propertyStub(c.env, id).rotateWebhookSecret();
  if (result === undefined) throw notFound(id);
  if (result === "no_webhook") throw noWebhook();
  return c.json({ webhook_secret: result });
});

alertRoutes.post("/api/v1/properties/:id/alert-rules/test", async function testWebhook(c) {
  const id = c.req.param("id");
  const result = await propertyStub(c.env, id).testWebhook(Date.now());
  if (result === undefined) throw notFound(id);
  if (result === "no_webhook") throw noWebhook();
  return c.json(result);
});

alertRoutes.get("/api/v1/properties/:id/alerts", async function listAlerts(c) {
  const id = c.req.param("id");
  const parsed = AlertListQuerySchema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError("invalid_request", 400, describeIssues(toFieldIssues(parsed.error)));
  const alerts = await propertyStub(c.env, id).listAlerts(parsed.data.status, parsed.data.limit);
  if (!alerts) throw notFound(id);
  return c.json({ alerts: alerts.map(alertView) });
});
