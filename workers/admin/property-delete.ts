/**
 * `DELETE /api/v1/properties/{id}`'s steps, in the order that stops the property first: the
 * PropertyDO's tombstone (events, keys, sockets and queries stop there), the registry's audit
 * record (its domains freed), then the erasure of its stored data. Each step repeats harmlessly,
 * so a DELETE repeated after a crash at any point finishes the job with the same erasure id.
 */
import type { ErasureStatus, PropertyDeletion } from "../../core/privacy/erasure.ts";
import type { Tombstone } from "../../durable-objects/property-do.ts";
import { forgetProperty, propertyStub, registryStub } from "../../platform/properties.ts";
import { deletedError, notFound } from "./property-lifecycle.ts";

/** Deletes a property (idempotent: a repeated call answers the first deletion). */
export async function deleteProperty(env: Env, id: string, deletedBy: string, now: number): Promise<PropertyDeletion> {
  const registry = registryStub(env);
  const tombstone = await propertyStub(env, id).remove(deletedBy, now);
  if (!tombstone) {
    // A reservation left by a crash before the PropertyDO existed holds no data: drop it.
    if (await registry.dropReservation(id)) throw notFound(id);
    const entry = await registry.entry(id);
    if (entry?.status === "deleted") throw deletedError(entry);
    throw notFound(id);
  }
  forgetProperty(id);
  await registry.markDeleted(tombstone);
  const status = await startPropertyErasure(env, tombstone);
  return {
    property_id: id,
    deleted_at: new Date(tombstone.deleted_at).toISOString(),
    deleted_by: tombstone.deleted_by,
    erasure_id: tombstone.erasure_id,
    status_url: `/api/v1/properties/${id}/erasures/${tombstone.erasure_id}`,
    status,
  };
}

/**
 * Starts the job that erases the property's stored data (archive, ClickHouse, warehouse, session
 * actors) in its ErasureDO; with the tombstone's erasure id, a repeated start returns that job.
 */
export async function startPropertyErasure(env: Env, tombstone: Tombstone): Promise<ErasureStatus> {
  return env.ERASURE_DO.getByName(tombstone.property_id).start({
    erasure_id: tombstone.erasure_id,
    property_id: tombstone.property_id,
    scope: "property",
    requested_by: tombstone.deleted_by,
    requested_at: tombstone.deleted_at,
  });
}
