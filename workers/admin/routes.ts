/**
 * The admin API (Bearer ADMIN_TOKEN): create, read, change and delete properties; issue and revoke
 * their API keys; rotate their GA4 Measurement Protocol secret. Secrets are returned once, never
 * again. The lifecycle's steps across the two actors are in property-lifecycle.ts and property-delete.ts.
 */
import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../core/errors.ts";
import { PROPERTY_ID_PATTERN } from "../../core/event.ts";
import {
  CreatePropertySchema,
  newPropertyId,
  PatchPropertySchema,
  type PropertyConfig,
} from "../../core/property/property.ts";
import { propertyStub } from "../../platform/properties.ts";
import { requireAdmin } from "../auth.ts";
import { forgetMpSecrets } from "../compat/mp-secret.ts";
import { parseJson } from "../json.ts";
import { deleteProperty } from "./property-delete.ts";
import { createProperty, listProperties, missing, patchProperty, readProperty } from "./property-lifecycle.ts";

export const adminRoutes = new Hono<{ Bindings: Env }>();

const KeyRequestSchema = z.strictObject({ label: z.string().max(100).default("") });

adminRoutes.use("/api/v1/properties/*", async function adminOnly(c, next) {
  await requireAdmin(c);
  await next();
});
adminRoutes.use("/api/v1/properties", async function adminOnly(c, next) {
  await requireAdmin(c);
  await next();
});

function idParam(id: string): string {
  if (!PROPERTY_ID_PATTERN.test(id))
    throw new AppError("invalid_request", 400, `property_id: ${id} is not a valid property id`);
  return id;
}

async function existing(env: Env, id: string): Promise<PropertyConfig> {
  const config = await propertyStub(env, id).config();
  if (!config) throw await missing(env, id);
  return config;
}

adminRoutes.post("/api/v1/properties", async function postProperty(c) {
  const input = await parseJson(c.req.raw, CreatePropertySchema);
  const config: PropertyConfig = {
    property_id: input.property_id ?? newPropertyId(),
    name: input.name,
    domains: [...new Set(input.domains)],
    timezone: input.timezone,
    disabled: false,
    hash_routing: input.hash_routing,
    privacy: input.privacy,
    session_shards: input.session_shards,
    currency: input.currency,
    created_at: Date.now(),
  };
  const credentials = await createProperty(c.env, config);
  return c.json({ ...config, ...credentials }, 201);
});

adminRoutes.get("/api/v1/properties", async function listAll(c) {
  return c.json(await listProperties(c.env));
});

adminRoutes.get("/api/v1/properties/:id", async function getProperty(c) {
  const id = idParam(c.req.param("id"));
  const config = await readProperty(c.env, id);
  const stub = propertyStub(c.env, id);
  return c.json({ ...config, keys: await stub.listKeys(), refusals: await stub.refusals() });
});

adminRoutes.patch("/api/v1/properties/:id", async function changeProperty(c) {
  const id = idParam(c.req.param("id"));
  const patch = await parseJson(c.req.raw, PatchPropertySchema);
  return c.json(await patchProperty(c.env, id, patch));
});

/** Deletes the property and starts erasing its data: 202 with the erasure's id and status URL (repeatable). */
adminRoutes.delete("/api/v1/properties/:id", async function removeProperty(c) {
  const id = idParam(c.req.param("id"));
  // One admin token: the audit can only say "admin" (never an address, which is personal data).
  const deletion = await deleteProperty(c.env, id, "admin", Date.now());
  c.header("Location", deletion.status_url);
  return c.json(deletion, 202);
});

adminRoutes.post("/api/v1/properties/:id/keys", async function createKey(c) {
  const id = idParam(c.req.param("id"));
  const { label } = c.req.header("content-type")?.includes("json")
    ? await parseJson(c.req.raw, KeyRequestSchema)
    : { label: "" };
  const key = await propertyStub(c.env, id).createKey(label, Date.now());
  if (!key) throw await missing(c.env, id);
  return c.json({ property_id: id, ...key }, 201);
});

adminRoutes.delete("/api/v1/properties/:id/keys/:keyId", async function revokeKey(c) {
  const id = idParam(c.req.param("id"));
  await existing(c.env, id);
  const revoked = await propertyStub(c.env, id).revokeKey(c.req.param("keyId"), Date.now());
  if (!revoked) throw new AppError("key_not_found", 404, `key ${c.req.param("keyId")} is not an active key of ${id}`);
  return c.json({ property_id: id, key_id: c.req.param("keyId"), revoked: true });
});

adminRoutes.post("/api/v1/properties/:id/mp-secret", async function rotateMpSecret(c) {
  const id = idParam(c.req.param("id"));
  const secret = await propertyStub(c.env, id).rotateMpSecret();
  if (!secret) throw await missing(c.env, id);
  forgetMpSecrets(id);
  return c.json({ property_id: id, mp_api_secret: secret }, 201);
});
