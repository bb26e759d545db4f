/**
 * Properties: creating and listing them is the deployment's (the admin token); reading, changing and
 * deleting one, its API keys and its GA4 Measurement Protocol secret are its people's, by role
 * (core/team/roles.ts: read, manage — `people` for the sharing fields —, people for keys and the
 * secret, own to delete). Secrets are returned once, never again. The lifecycle's steps across the
 * actors are in property-lifecycle.ts and property-delete.ts.
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
  SHARING_FIELDS,
} from "../../core/property/property.ts";
import { allows, roleRank } from "../../core/team/roles.ts";
import { RoleSchema } from "../../core/team/schemas.ts";
import { propertyStub } from "../../platform/properties.ts";
import { accountStub, teamStub } from "../../platform/team.ts";
import { requireAdmin, requirePropertyAccess } from "../auth.ts";
import { forgetMpSecrets } from "../compat/mp-secret.ts";
import { parseJson } from "../json.ts";
import { audit } from "../team/shared.ts";
import { deleteProperty } from "./property-delete.ts";
import { createProperty, listProperties, missing, patchProperty, readProperty } from "./property-lifecycle.ts";

export const adminRoutes = new Hono<{ Bindings: Env }>();

const KeyRequestSchema = z.strictObject({ label: z.string().max(100).default(""), role: RoleSchema.default("admin") });

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
  const principal = await requirePropertyAccess(c, id, "read");
  const config = await readProperty(c.env, id);
  const stub = propertyStub(c.env, id);
  // Keys are for those who manage access; the rest of the configuration is every reader's.
  const keys = allows(principal, "people") ? { keys: await stub.listKeys() } : {};
  return c.json({ ...config, ...keys, refusals: await stub.refusals() });
});

adminRoutes.patch("/api/v1/properties/:id", async function changeProperty(c) {
  const id = idParam(c.req.param("id"));
  const principal = await requirePropertyAccess(c, id, "manage");
  const patch = await parseJson(c.req.raw, PatchPropertySchema);
  const sharing = SHARING_FIELDS.filter((f) => patch[f] !== undefined);
  if (sharing.length > 0 && !allows(principal, "people"))
    throw new AppError(
      "forbidden",
      403,
      `${sharing.join(", ")}: who may see the reports is decided by admins and owners`,
    );
  const changed = await patchProperty(c.env, id, patch);
  await audit(c, id, principal, "property_changed", id, { fields: Object.keys(patch).join(", ") });
  return c.json(changed);
});

/** Deletes the property and starts erasing its data: 202 with the erasure's id and status URL (repeatable). */
adminRoutes.delete("/api/v1/properties/:id", async function removeProperty(c) {
  const id = idParam(c.req.param("id"));
  const principal = await requirePropertyAccess(c, id, "own");
  // Who deleted it, by email or "admin" (never an address, which is personal data).
  const deletion = await deleteProperty(
    c.env,
    id,
    principal.kind === "account" ? principal.email : "admin",
    Date.now(),
  );
  // What its team kept goes too; its people's lists of properties forget it.
  const people = await teamStub(c.env, id).wipe();
  await Promise.all(people.map((email) => accountStub(c.env, email).setMembership(id, null)));
  c.header("Location", deletion.status_url);
  return c.json(deletion, 202);
});

adminRoutes.get("/api/v1/properties/:id/keys", async function listKeys(c) {
  const id = idParam(c.req.param("id"));
  await requirePropertyAccess(c, id, "people");
  await existing(c.env, id);
  return c.json({ keys: await propertyStub(c.env, id).listKeys() });
});

/** A key's role: `admin` unless asked (what keys reached before roles), never above the issuer's own. */
adminRoutes.post("/api/v1/properties/:id/keys", async function createKey(c) {
  const id = idParam(c.req.param("id"));
  const principal = await requirePropertyAccess(c, id, "people");
  const { label, role } = c.req.header("content-type")?.includes("json")
    ? await parseJson(c.req.raw, KeyRequestSchema)
    : { label: "", role: "admin" as const };
  if (principal.kind === "account" && roleRank(role) > roleRank(principal.role))
    throw new AppError("forbidden", 403, `role: a ${principal.role} may not issue a key with the ${role} role`);
  const key = await propertyStub(c.env, id).createKey(label, Date.now(), role);
  if (!key) throw await missing(c.env, id);
  await audit(c, id, principal, "key_issued", key.key_id, { label, role });
  return c.json({ property_id: id, ...key }, 201);
});

adminRoutes.delete("/api/v1/properties/:id/keys/:keyId", async function revokeKey(c) {
  const id = idParam(c.req.param("id"));
  const principal = await requirePropertyAccess(c, id, "people");
  await existing(c.env, id);
  const revoked = await propertyStub(c.env, id).revokeKey(c.req.param("keyId"), Date.now());
  if (!revoked) throw new AppError("key_not_found", 404, `key ${c.req.param("keyId")} is not an active key of ${id}`);
  await audit(c, id, principal, "key_revoked", c.req.param("keyId"));
  return c.json({ property_id: id, key_id: c.req.param("keyId"), revoked: true });
});

adminRoutes.post("/api/v1/properties/:id/mp-secret", async function rotateMpSecret(c) {
  const id = idParam(c.req.param("id"));
  const principal = await requirePropertyAccess(c, id, "people");
  const secret = await propertyStub(c.env, id).rotateMpSecret();
  if (!secret) throw await missing(c.env, id);
  forgetMpSecrets(id);
  await audit(c, id, principal, "mp_secret_rotated", id);
  return c.json({ property_id: id, mp_api_secret: secret }, 201);
});
