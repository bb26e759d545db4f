/**
 * The PropertyDO's lifecycle in its storage: the configuration under "config" while the property
 * exists, and a tombstone under "tombstone" once it was deleted. The tombstone is written in the
 * same transaction that removes the configuration and credentials, so every reader sees either a
 * property or a deleted one; everything else the actor kept is wiped after it, by a step any retry
 * repeats. Events accepted before the deletion reached every edge (their caches keep a
 * configuration up to 60 s) still arrive through the queue after the erasure ran: each batch of
 * them arms a sweep ("sweep_due", "sweeps"), another erasure once they stop coming.
 */
import type { PropertyConfig } from "../core/property/property.ts";

/** A deleted property: what it was, who deleted it when, and the erasure that removes its data. */
export interface Tombstone {
  property_id: string;
  name: string;
  domains: string[];
  created_at: number;
  /** Its session actors' count when deleted, so the erasure resets every one of them. */
  session_shards?: number;
  deleted_at: number;
  deleted_by: string;
  erasure_id: string;
}

/** Quiet time after the last late batch before the sweep: the consumer writes ClickHouse after the actor call. */
export const SWEEP_DELAY_MS = 60_000;
/** Kept by the wipe: the tombstone and the sweep's own state. */
const KEPT = new Set(["tombstone", "sweep_due", "sweeps"]);

/** What the actor holds: a property, a deleted one, or nothing (never created). */
export interface PropertyState {
  config?: PropertyConfig;
  tombstone?: Tombstone;
}

export async function readTombstone(storage: DurableObjectStorage): Promise<Tombstone | undefined> {
  return storage.get<Tombstone>("tombstone");
}

/**
 * Replaces the configuration by a tombstone in one transaction; the existing tombstone when the
 * property was already deleted (so a retried deletion keeps its time, author and erasure id), and
 * undefined when there never was a property.
 */
export async function writeTombstone(
  storage: DurableObjectStorage,
  deletedBy: string,
  now: number,
): Promise<Tombstone | undefined> {
  return storage.transaction(async (txn) => {
    const existing = await txn.get<Tombstone>("tombstone");
    if (existing) return existing;
    const config = await txn.get<PropertyConfig>("config");
    if (!config) return undefined;
    const tombstone: Tombstone = {
      property_id: config.property_id,
      name: config.name,
      domains: config.domains,
      created_at: config.created_at,
      ...(config.session_shards === undefined ? {} : { session_shards: config.session_shards }),
      deleted_at: now,
      deleted_by: deletedBy,
      erasure_id: crypto.randomUUID(),
    };
    await txn.put("tombstone", tombstone);
    // Credentials stop working in the same step as the configuration.
    await txn.delete(["config", "keys", "mp_secret_hash"]);
    return tombstone;
  });
}

/**
 * Deletes everything but the tombstone (keys, MP secret, goals, funnels, live windows, counters,
 * quota, push state) and any pending alarm; repeating it after a crash finishes the job.
 */
export async function wipeAfterTombstone(storage: DurableObjectStorage): Promise<number> {
  const keys = [...(await storage.list()).keys()].filter((k) => !KEPT.has(k));
  for (let i = 0; i < keys.length; i += 128) await storage.delete(keys.slice(i, i + 128));
  if ((await storage.get("sweep_due")) === undefined) await storage.deleteAlarm();
  return keys.length;
}

/** A batch of a deleted property's events arrived: (re)arm the sweep for when they have stopped coming. */
export async function armSweep(storage: DurableObjectStorage, now: number): Promise<void> {
  await storage.put("sweep_due", now + SWEEP_DELAY_MS);
  await storage.setAlarm(now + SWEEP_DELAY_MS);
}

/**
 * The sweep: another erasure of the whole property, for the events that arrived after its
 * deletion; its id extends the deletion's, so a retried alarm starts the same job.
 */
export async function sweep(
  storage: DurableObjectStorage,
  env: Env,
  tombstone: Tombstone,
): Promise<string | undefined> {
  if ((await storage.get("sweep_due")) === undefined) return undefined;
  const n = ((await storage.get<number>("sweeps")) ?? 0) + 1;
  const erasureId = `${tombstone.erasure_id}-sweep-${n}`;
  await env.ERASURE_DO.getByName(tombstone.property_id).start({
    erasure_id: erasureId,
    property_id: tombstone.property_id,
    scope: "property",
    requested_by: "tally:events-after-deletion",
  });
  await storage.transaction(async (txn) => {
    await txn.put("sweeps", n);
    await txn.delete("sweep_due");
  });
  return erasureId;
}
