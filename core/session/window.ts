/**
 * The 1-minute tumbling aggregation of our spec, as a pure value: per minute of event time —
 * pageviews, events, sessions started, bounces, duration, unique visitors (HyperLogLog) and top
 * pages, sources, countries and devices (Space-Saving). The PropertyDO keeps the last hour and
 * answers realtime queries from it; bots are counted apart and excluded from every figure.
 */
import type { Event } from "../event.ts";
import { MINUTE_MS } from "../time.ts";
import { HyperLogLog } from "./hll.ts";
import { durationSeconds, isBounce, type SessionChange, type SessionOutcome } from "./session.ts";
import { SpaceSaving, type TopEntry } from "./top-k.ts";

export const LIVE_HORIZON_MINUTES = 60;
const TOP_CAPACITY = 50;

/** The plain counters of a minute. */
interface WindowCounts {
  minute: number;
  pageviews: number;
  events: number;
  bot_events: number;
  sessions_started: number;
  bounces: number;
  duration_sum: number;
}

export interface MinuteWindow extends WindowCounts {
  visitors: HyperLogLog;
  pages: SpaceSaving;
  sources: SpaceSaving;
  countries: SpaceSaving;
  devices: SpaceSaving;
}

/** Storage form: sketches as their compact text. */
export interface StoredWindow extends WindowCounts {
  visitors: string;
  pages: TopEntry[];
  sources: TopEntry[];
  countries: TopEntry[];
  devices: TopEntry[];
}

export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS) * MINUTE_MS;

export function emptyWindow(minute: number): MinuteWindow {
  return {
    minute,
    pageviews: 0,
    events: 0,
    bot_events: 0,
    sessions_started: 0,
    bounces: 0,
    duration_sum: 0,
    visitors: new HyperLogLog(),
    pages: new SpaceSaving(TOP_CAPACITY),
    sources: new SpaceSaving(TOP_CAPACITY),
    countries: new SpaceSaving(TOP_CAPACITY),
    devices: new SpaceSaving(TOP_CAPACITY),
  };
}

/** True when an event's minute is inside the live horizon ending at `now`. */
export function inHorizon(eventMs: number, now: number): boolean {
  return minuteOf(eventMs) > minuteOf(now) - LIVE_HORIZON_MINUTES * MINUTE_MS && eventMs <= now + 5 * MINUTE_MS;
}

/** Counts one non-duplicate event in its minute's window (the caller picks the window). */
export function countEvent(w: MinuteWindow, e: Event, outcome: SessionOutcome): void {
  if (outcome.is_duplicate) return;
  if (e.is_bot) {
    w.bot_events++;
    return;
  }
  w.events++;
  w.visitors.add(e.client_id);
  if (e.event_type === "pageview") {
    w.pageviews++;
    w.pages.add(e.page_path || "/");
  }
  if (outcome.is_new_session) {
    w.sessions_started++;
    w.sources.add(e.source || "Direct");
    w.countries.add(e.country || "Unknown");
    w.devices.add(e.device_type);
  }
}

/** Moves bounce and duration to the minute the session started: they change as the session grows. */
export function countSessionChange(w: MinuteWindow, change: SessionChange): void {
  if (change.current.is_bot) return;
  const before = change.previous;
  w.bounces += (isBounce(change.current) ? 1 : 0) - (before && isBounce(before) ? 1 : 0);
  w.duration_sum += durationSeconds(change.current) - (before ? durationSeconds(before) : 0);
}

export function storeWindow(w: MinuteWindow): StoredWindow {
  return {
    ...w,
    visitors: w.visitors.serialize(),
    pages: w.pages.entries(),
    sources: w.sources.entries(),
    countries: w.countries.entries(),
    devices: w.devices.entries(),
  };
}

export function loadWindow(s: StoredWindow): MinuteWindow {
  return {
    ...s,
    visitors: HyperLogLog.deserialize(s.visitors),
    pages: new SpaceSaving(TOP_CAPACITY, s.pages),
    sources: new SpaceSaving(TOP_CAPACITY, s.sources),
    countries: new SpaceSaving(TOP_CAPACITY, s.countries),
    devices: new SpaceSaving(TOP_CAPACITY, s.devices),
  };
}
