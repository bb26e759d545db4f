/**
 * The hourly load as a pure step (issue #16): one closed UTC hour of archived events in, the rows
 * the warehouse must hold after it out. Sessions are what the session reducer computes
 * (core/replay/replay.ts replayChunk over fresh states, events in time order), so a session that
 * crosses hours is one row whichever order its hours are loaded in: the shell reads the sessions
 * next to the hour from the warehouse (open at its start, or going on past its end), and the step
 * re-runs the reducer over them and the hour, rewriting every session it touches in full.
 */
import type { Event } from "../event.ts";
import { replayChunk } from "../replay/replay.ts";
import { SESSION_TIMEOUT_MS } from "../session/session.ts";
import { HOUR_MS } from "../time.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "./rows.ts";
import type { WarehouseEventRow, WarehouseSessionRow } from "./schema.ts";

/** Rows per INSERT: 500 events × 45 columns stay far below PostgreSQL's 65,535 parameters. */
export const INSERT_BATCH_ROWS = 500;
/** Values per `IN (…)` list when the shell reads or deletes by visitor or session. */
export const IN_LIST_CHUNK = 1000;

/** One archived event and when the edge accepted it. */
export interface ArchivedEvent {
  event: Event;
  received_at: number;
}

/** A session the warehouse holds, by its property (session ids are unique within one). */
export interface SessionKey {
  property_id: string;
  session_id: string;
}

export interface HourLoadInput {
  /** Epoch ms of the hour's start (UTC, whole hour). */
  hour: number;
  /** The hour's archived events, one per (property, event id) (core/archive/plan.ts dedupeRecords). */
  archived: readonly ArchivedEvent[];
  /** Every warehouse event of the neighbouring sessions (see neighbourWindows), outside the hour. */
  neighbours: readonly WarehouseEventRow[];
  /** Sessions the warehouse gives the hour's events now (an earlier load of it): replaced too. */
  previous: readonly SessionKey[];
}

export interface HourLoad {
  /** To insert: the hour's events and the neighbouring sessions' events, with their session ids. */
  events: WarehouseEventRow[];
  /** To insert: every session those events make, computed from all of its events. */
  sessions: WarehouseSessionRow[];
  /** To delete before inserting: the neighbouring sessions' events, by property and old session id. */
  rewrittenSessions: Map<string, string[]>;
  /** To delete before inserting: every session row the load replaces, by property. */
  touchedSessions: Map<string, string[]>;
}

/** The UTC hour an instant falls in. */
export const hourFloor = (ms: number) => ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);

/**
 * Where the sessions next to an hour show: a session open at its start has an event in the
 * timeout before it, one that goes on past its end an event in the timeout after it (a session's
 * events are never further apart). The shell reads the whole sessions these windows name.
 */
export function neighbourWindows(hour: number): { before: [number, number]; after: [number, number] } {
  return {
    before: [hour - SESSION_TIMEOUT_MS, hour],
    after: [hour + HOUR_MS, hour + HOUR_MS + SESSION_TIMEOUT_MS],
  };
}

/** The visitors of the hour, client ids per property (the neighbours are read for these only). */
export function visitorsOf(archived: readonly ArchivedEvent[]): Map<string, string[]> {
  const sets = new Map<string, Set<string>>();
  for (const { event } of archived) {
    const set = sets.get(event.property_id) ?? new Set<string>();
    set.add(event.client_id);
    sets.set(event.property_id, set);
  }
  return new Map([...sets].map(([p, s]) => [p, [...s].sort()]));
}

const fromDate = (d: Date) => d.getTime();
const optional = (v: string) => (v === "" ? undefined : v);
/** JSON columns come back parsed from PostgreSQL (its JSON type) and as text from Redshift (VARCHAR). */
const map = <V>(v: unknown): Record<string, V> | undefined => {
  const parsed = (typeof v === "string" ? JSON.parse(v) : v) as Record<string, V> | null;
  return parsed && Object.keys(parsed).length > 0 ? parsed : undefined;
};

/**
 * A warehouse row back to the event it was loaded from: empty optional fields become absent, as
 * the archive keeps them, so the row it is written back as is the same (toClickHouseRow).
 */
export function fromWarehouseEventRow(row: WarehouseEventRow): ArchivedEvent {
  const { session_id: _s, received_at, event_timestamp, ...rest } = row;
  const event: Event = {
    ...rest,
    event_timestamp: fromDate(event_timestamp),
    device_type: rest.device_type as Event["device_type"],
    channel: rest.channel as Event["channel"],
    bot_reason: rest.bot_reason as Event["bot_reason"],
    visitor_id_source: rest.visitor_id_source as Event["visitor_id_source"],
    source_protocol: rest.source_protocol as Event["source_protocol"],
    user_id: optional(rest.user_id),
    page_title: optional(rest.page_title),
    referrer: optional(rest.referrer),
    user_agent: optional(rest.user_agent),
    screen_resolution: optional(rest.screen_resolution),
    viewport_size: optional(rest.viewport_size),
    language: optional(rest.language),
    custom_dimensions: map<string>(rest.custom_dimensions),
    custom_metrics: map<number>(rest.custom_metrics),
  };
  return { event, received_at: fromDate(received_at) };
}

const eventKey = (propertyId: string, eventId: string) => `${propertyId}|${eventId}`;

function addTo(groups: Map<string, Set<string>>, property: string, id: string): void {
  const set = groups.get(property) ?? new Set<string>();
  set.add(id);
  groups.set(property, set);
}

const sorted = (groups: Map<string, Set<string>>) => new Map([...groups].map(([p, s]) => [p, [...s].sort()]));

/**
 * Computes the hour's load. The reducer runs from fresh states over the neighbouring sessions'
 * events and the hour's, in (time, event id) order as replay feeds it; every session it produces
 * is complete (the neighbours are whole sessions), so its row is written from all its events.
 */
export function planHourLoad(input: HourLoadInput): HourLoad {
  const end = input.hour + HOUR_MS;
  const seen = new Set<string>();
  const all: ArchivedEvent[] = [];
  const rewritten = new Map<string, Set<string>>();
  const touched = new Map<string, Set<string>>();
  for (const a of input.archived) {
    const key = eventKey(a.event.property_id, a.event.event_id);
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(a);
  }
  for (const row of input.neighbours) {
    const t = row.event_timestamp.getTime();
    if (t >= input.hour && t < end) continue; // the archive's copy of the hour replaces it
    const key = eventKey(row.property_id, row.event_id);
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(fromWarehouseEventRow(row));
    addTo(rewritten, row.property_id, row.session_id);
    addTo(touched, row.property_id, row.session_id);
  }
  for (const p of input.previous) addTo(touched, p.property_id, p.session_id);
  all.sort(
    (a, b) =>
      a.event.event_timestamp - b.event.event_timestamp ||
      (a.event.event_id < b.event.event_id ? -1 : a.event.event_id > b.event.event_id ? 1 : 0),
  );
  const received = new Map(all.map((a) => [eventKey(a.event.property_id, a.event.event_id), a.received_at]));
  const rows = replayChunk(
    all.map((a) => a.event),
    new Map(),
    (e) => received.get(eventKey(e.property_id, e.event_id)) ?? e.event_timestamp,
  );
  const sessions = rows.sessionLog.filter((r) => r.sign === 1).map(toWarehouseSessionRow);
  for (const s of sessions) addTo(touched, s.property_id, s.session_id);
  return {
    events: rows.events.map(toWarehouseEventRow),
    sessions,
    rewrittenSessions: sorted(rewritten),
    touchedSessions: sorted(touched),
  };
}

/** Splits a list into chunks of at most `size` (batched inserts, bounded IN lists). */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
