/**
 * The PropertyDO's live state: the last hour of minute windows, keyed by event time, updated once
 * per consumer batch in one storage write and pruned as the hour moves on.
 */
import type { Event } from "../core/event.ts";
import { type RealtimeSnapshot, realtimeSnapshot } from "../core/session/realtime.ts";
import type { SessionChange, SessionOutcome } from "../core/session/session.ts";
import {
  countEvent,
  countSessionChange,
  emptyWindow,
  inHorizon,
  LIVE_HORIZON_MINUTES,
  loadWindow,
  type MinuteWindow,
  minuteOf,
  type StoredWindow,
  storeWindow,
} from "../core/session/window.ts";
import { MINUTE_MS } from "../core/time.ts";

export interface LiveItem {
  event: Event;
  outcome: SessionOutcome;
}

const key = (minute: number) => `w:${minute}`;

/** What the windows need of storage: the Storage API and a transaction both offer it. */
type WindowStore = Pick<DurableObjectTransaction, "get" | "put" | "list" | "delete">;

/** The windows still inside the horizon, in storage form (the query API's live leg). */
export async function storedWindows(storage: WindowStore, now: number): Promise<StoredWindow[]> {
  const stored = await storage.list<StoredWindow>({ prefix: "w:" });
  return [...stored.values()].filter((w) => inHorizon(w.minute, now));
}

/** All windows still inside the horizon. */
export async function liveWindows(storage: WindowStore, now: number): Promise<MinuteWindow[]> {
  return (await storedWindows(storage, now)).map(loadWindow);
}

/** The realtime snapshot of the last hour, from the windows. */
export async function liveSnapshot(storage: WindowStore, propertyId: string, now: number): Promise<RealtimeSnapshot> {
  return realtimeSnapshot(propertyId, await liveWindows(storage, now), now);
}

/** Drops every window (a replay of the actors rebuilds them); storage deletes at most 128 keys per call. */
export async function dropWindows(storage: WindowStore): Promise<void> {
  const keys = [...(await storage.list({ prefix: "w:" })).keys()];
  for (let i = 0; i < keys.length; i += 128) await storage.delete(keys.slice(i, i + 128));
}

/** Counts a batch into its windows; returns the rows written (windows stored and pruned). Older-than-horizon events are left to ClickHouse. */
export async function applyToWindows(
  storage: WindowStore,
  items: readonly LiveItem[],
  changes: readonly SessionChange[],
  now: number,
): Promise<number> {
  const minutes = new Set<number>();
  for (const { event } of items)
    if (inHorizon(event.event_timestamp, now)) minutes.add(minuteOf(event.event_timestamp));
  for (const c of changes) if (inHorizon(c.current.started_at, now)) minutes.add(minuteOf(c.current.started_at));
  if (minutes.size === 0) return 0;
  const stored = await storage.get<StoredWindow>([...minutes].map(key));
  const windows = new Map(
    [...minutes].map((m) => [m, stored.get(key(m)) ? loadWindow(stored.get(key(m)) as StoredWindow) : emptyWindow(m)]),
  );
  for (const { event, outcome } of items) {
    const w = windows.get(minuteOf(event.event_timestamp));
    if (w && inHorizon(event.event_timestamp, now)) countEvent(w, event, outcome);
  }
  for (const c of changes) {
    const w = windows.get(minuteOf(c.current.started_at));
    if (w) countSessionChange(w, c);
  }
  await storage.put(Object.fromEntries([...windows.values()].map((w) => [key(w.minute), storeWindow(w)])));
  const horizon = minuteOf(now) - LIVE_HORIZON_MINUTES * MINUTE_MS;
  const old = [...(await storage.list({ prefix: "w:", end: key(horizon + 1) })).keys()];
  if (old.length > 0) await storage.delete(old);
  return windows.size + old.length;
}
