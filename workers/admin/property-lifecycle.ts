/**
 * Creating, changing and reading properties across their two actors. The PropertyDO is the truth;
 * the RegistryDO is an index that each step rewrites from it. So a crash between the two calls,
 * or inside one, leaves a state the next attempt completes: a reservation without a property is
 * created by the next POST of that id, an index behind its property is rewritten by the next PATCH
 * or read, and a tombstone the index has not heard of is recorded by the next read or DELETE.
 */
import { AppError } from "../../core/errors.ts";
import type { PatchProperty, PropertyConfig } from "../../core/property/property.ts";
import type { Credentials, Tombstone } from "../../durable-objects/property-do.ts";
import type { PropertySummary, RegistryEntry } from "../../durable-objects/registry-do.ts";
import { forgetProperty, propertyStub, registryStub } from "../../platform/properties.ts";

export function summaryOf(config: Pick<PropertyConfig, keyof PropertySummary>): PropertySummary {
  return {
    property_id: config.property_id,
    name: config.name,
    domains: config.domains,
    created_at: config.created_at,
  };
}

export function notFound(id: string): AppError {
  return new AppError("property_not_found", 404, `property ${id} does not exist`);
}

/** A deleted property: 410 where it is asked for, 409 where its id is asked for again (ids are never reused). */
export function deletedError(t: Pick<Tombstone, "property_id" | "deleted_at">, status: 409 | 410 = 410): AppError {
  const at = new Date(t.deleted_at).toISOString();
  return new AppError(
    "property_deleted",
    status,
    `property ${t.property_id} was deleted at ${at}; its id is not reused`,
  );
}

/** Reserve the id, create the PropertyDO, index it: any step repeated after a crash completes the rest. */
export async function createProperty(env: Env, config: PropertyConfig): Promise<Credentials> {
  const id = config.property_id;
  const registry = registryStub(env);
  const reserved = await registry.reserve(summaryOf(config));
  if (reserved.status === "deleted") throw deletedError(reserved, 409);
  // A reservation of this id with no property behind it (a crash after reserving) is completed here.
  const outcome = await propertyStub(env, id).create(config);
  if ("deleted" in outcome) {
    await registry.markDeleted(outcome.deleted);
    throw deletedError(outcome.deleted, 409);
  }
  if ("exists" in outcome) {
    await registry.confirm(summaryOf(outcome.exists));
    throw new AppError("property_exists", 409, `property_id: ${id} is already taken`);
  }
  await registry.confirm(summaryOf(config));
  forgetProperty(id);
  return outcome.created;
}

/** Change the PropertyDO, then re-index from what it stored (a repeated PATCH re-indexes). */
export async function patchProperty(env: Env, id: string, patch: PatchProperty): Promise<PropertyConfig> {
  const updated = await propertyStub(env, id).update(patch);
  if (!updated) throw await missing(env, id);
  await registryStub(env).confirm(summaryOf(updated));
  forgetProperty(id);
  return updated;
}

/** The property's configuration, with its index entry repaired when a crash left it behind. */
export async function readProperty(env: Env, id: string): Promise<PropertyConfig> {
  const state = await propertyStub(env, id).state();
  const registry = registryStub(env);
  if (state.tombstone) {
    await registry.markDeleted(state.tombstone);
    throw deletedError(state.tombstone);
  }
  if (!state.config) throw notFound(id);
  const entry = await registry.entry(id);
  if (!entry || !indexed(entry, state.config)) await registry.confirm(summaryOf(state.config));
  return state.config;
}

/** The registry's properties, reservations checked against their actors (completed or shown as "creating"). */
export async function listProperties(env: Env): Promise<{ properties: RegistryEntry[]; deleted: RegistryEntry[] }> {
  const registry = registryStub(env);
  const properties = await Promise.all(
    (await registry.list()).map(async (entry) => {
      if (entry.status !== "creating") return entry;
      const state = await propertyStub(env, entry.property_id).state();
      if (state.tombstone) return registry.markDeleted(state.tombstone);
      return state.config ? registry.confirm(summaryOf(state.config)) : entry;
    }),
  );
  return { properties: properties.filter((p) => p.status !== "deleted"), deleted: await registry.deleted() };
}

/** The error for an id whose actor holds no property: 410 when deleted, else 404. */
export async function missing(env: Env, id: string): Promise<AppError> {
  const { tombstone } = await propertyStub(env, id).state();
  if (!tombstone) return notFound(id);
  await registryStub(env).markDeleted(tombstone);
  return deletedError(tombstone);
}

function indexed(entry: RegistryEntry, config: PropertyConfig): boolean {
  return (
    entry.status === "active" &&
    entry.name === config.name &&
    entry.domains.length === config.domains.length &&
    entry.domains.every((d, i) => d === config.domains[i])
  );
}
