/**
 * An erasure's actor work: the session actors forget a visitor (their open sessions and the event
 * ids kept to spot repeats), or a deleted property's session actors and live windows are emptied.
 * A visitor cannot be taken out of the live minute windows (counts and sketches): the status says
 * so; those windows age out within the hour and no report over a closed range reads them.
 */
import type { ErasureTarget, StoreReport } from "../core/privacy/erasure.ts";
import { sessionShards } from "../core/property/property.ts";
import { loadConfig } from "../platform/config.ts";
import { sessionActorKey } from "./client.ts";

export interface ActorsErased {
  session_actors: Partial<StoreReport>;
  live_windows: Partial<StoreReport>;
}

export const LIVE_WINDOWS_NOTE =
  "the last hour's live minute windows hold counts and sketches that cannot lose one visitor; they age out within the hour, and reports over closed ranges read the stores above";

export async function eraseFromActors(env: Env, target: ErasureTarget): Promise<ActorsErased> {
  // A deleted property has no configuration left: its tombstone keeps the shard count. Read from
  // the actor itself, not a cache, so a property deleted meanwhile is seen as deleted.
  const { config, tombstone } = await env.PROPERTY_DO.getByName(target.property_id).state();
  const buckets = sessionShards(config ?? tombstone, loadConfig(env).SESSION_BUCKETS);
  if (target.scope === "property") {
    for (let b = 0; b < buckets; b++) await env.SESSION_DO.getByName(`${target.property_id}|${b}`).reset();
    await env.PROPERTY_DO.getByName(target.property_id).resetLive();
    return { session_actors: { state: "done", actors: buckets }, live_windows: { state: "done" } };
  }
  const byActor = new Map<string, string[]>();
  for (const id of target.client_ids) {
    const key = sessionActorKey(target.property_id, id, buckets);
    byActor.set(key, [...(byActor.get(key) ?? []), id]);
  }
  let forgotten = 0;
  for (const [key, ids] of byActor) forgotten += await env.SESSION_DO.getByName(key).forget(ids);
  return {
    session_actors: { state: "done", actors: byActor.size, rows_removed: forgotten },
    live_windows: { state: "partial", note: LIVE_WINDOWS_NOTE },
  };
}
