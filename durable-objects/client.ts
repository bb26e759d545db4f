/**
 * The consumer's hop through the actors: one RPC per session actor and one per property actor per
 * batch. Session actors give every event its session id and say which events repeat; property
 * actors count the rest into their live windows.
 */
import type { Event } from "../core/event.ts";
import { hash64 } from "../core/hash.ts";
import { sessionShards } from "../core/property/property.ts";
import { netSessionChanges, type Session, type SessionChange } from "../core/session/session.ts";
import { loadConfig } from "../platform/config.ts";
import { cachedPropertyConfig, propertyConfig } from "../platform/properties.ts";
import type { AppliedEvent } from "./session-do.ts";

export interface Annotation {
  /** Per event object (not per id: a repeated id in one batch gets its own, duplicate, answer). */
  outcomes: Map<Event, AppliedEvent>;
  /** Each session's net change in the batch: its state before the first change, after the last. */
  sessionChanges: SessionChange[];
  /** Open sessions of repeated events, unchanged by this batch: a redelivery checks they were logged. */
  resync: Session[];
  /** What the batch cost in actor calls and rows written (logged per batch; docs/cost.md). */
  metrics: { session_rpcs: number; property_rpcs: number; config_rpcs: number; do_rows_written: number };
}

/** The session actor of a visitor: `property|bucket`, buckets (the property's session shards) spread by a hash of the visitor id. */
export function sessionActorKey(propertyId: string, clientId: string, buckets: number): string {
  return `${propertyId}|${hash64(clientId)[1] % buckets}`;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/**
 * Each property's session actor count, and how many configurations had to be asked of their
 * PropertyDO (each is cached per isolate for a minute; a miss is one more actor call to bill).
 */
async function shardCounts(
  env: Env,
  propertyIds: Iterable<string>,
): Promise<{ shards: Map<string, number>; lookups: number }> {
  const fallback = loadConfig(env).SESSION_BUCKETS;
  const ids = [...new Set(propertyIds)];
  const lookups = ids.filter((id) => cachedPropertyConfig(id) === null).length;
  const configs = await Promise.all(ids.map((id) => propertyConfig(env, id)));
  return { shards: new Map(ids.map((id, i) => [id, sessionShards(configs[i], fallback)])), lookups };
}

/** Applies a batch's events to the session actors, then to the property actors. */
export async function applyToActors(env: Env, events: readonly Event[], now: number): Promise<Annotation> {
  const { shards, lookups } = await shardCounts(
    env,
    events.map((e) => e.property_id),
  );
  const bySessionActor = groupBy(events, (e) =>
    sessionActorKey(e.property_id, e.client_id, shards.get(e.property_id) ?? 1),
  );
  const groups = [...bySessionActor];
  const results = await Promise.all(
    groups.map(([key, group]) => env.SESSION_DO.getByName(key).applyEvents(group, now)),
  );
  // Answers come back in each group's order; map them to the event objects they answer.
  const outcomes = new Map<Event, AppliedEvent>();
  results.forEach((r, g) => {
    const group = groups[g]?.[1] ?? [];
    r.outcomes.forEach((o, i) => {
      const event = group[i];
      if (event) outcomes.set(event, o);
    });
  });
  const byProperty = groupBy(events, (e) => e.property_id);
  const changes = results.flatMap((r) => r.changes);
  // Grouped once: a filter per property would cost properties × changes (~1 s a 50K-event batch).
  const changesByProperty = groupBy(changes, (c) => c.current.property_id);
  const propertyRows = await Promise.all(
    [...byProperty].map(([propertyId, group]) => {
      const items = group.flatMap((event) => {
        const outcome = outcomes.get(event);
        return outcome && !outcome.is_duplicate ? [{ event, outcome }] : [];
      });
      // A redelivery may still write repeats ClickHouse lacks: their times move the data version too.
      const repeats = group.filter((e) => outcomes.get(e)?.is_duplicate).map((e) => e.event_timestamp);
      const own = changesByProperty.get(propertyId) ?? [];
      return env.PROPERTY_DO.getByName(propertyId).applyLive(items, own, now, repeats);
    }),
  );
  const rows = results.reduce((n, r) => n + r.rows_written, 0) + propertyRows.reduce((n, r) => n + r, 0);
  return {
    outcomes,
    sessionChanges: netSessionChanges(changes),
    resync: results.flatMap((r) => r.resync),
    metrics: {
      session_rpcs: groups.length,
      property_rpcs: byProperty.size,
      config_rpcs: lookups,
      do_rows_written: rows,
    },
  };
}
