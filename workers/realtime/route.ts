/** GET /api/v1/realtime?property=…: the last hour, answered by the property's actor. */
import { Hono } from "hono";
import { AppError } from "../../core/errors.ts";
import { propertyConfig, propertyStub } from "../../platform/properties.ts";
import { requirePropertyAccess } from "../auth.ts";

export const realtimeRoutes = new Hono<{ Bindings: Env }>();

realtimeRoutes.get("/api/v1/realtime", async function realtime(c) {
  const propertyId = c.req.query("property") ?? "";
  if (!propertyId) throw new AppError("invalid_request", 400, "property: query parameter is required");
  await requirePropertyAccess(c, propertyId, "view");
  if (!(await propertyConfig(c.env, propertyId)))
    throw new AppError("property_not_found", 404, `property ${propertyId} does not exist`);
  return c.json(await propertyStub(c.env, propertyId).realtime(propertyId, Date.now()));
});
