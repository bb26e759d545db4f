/**
 * Sessions as a pure reducer: `advanceSession(state, event)` → `{ state, emitted, outcome }`.
 * The SessionDO hosts it live; replay and import run the very same function, so a rebuilt
 * projection equals the live one. A session ends after `timeoutMs` without events (30 min by
 * default); out-of-order events within the window are placed by their own time; duplicate
 * event ids are recognised and change nothing.
 */
import { z } from "zod";
import type { Event } from "../event.ts";
import { hash64 } from "../hash.ts";

export const SESSION_TIMEOUT_MS = 30 * 60_000;
/** Event ids remembered per visitor for duplicate detection: covers a redelivered batch of 20 with room. */
const REMEMBERED_IDS = 32;
const MAX_PAGE = 200;

export const SessionSchema = z.strictObject({
  session_id: z.string(),
  property_id: z.string(),
  client_id: z.string(),
  /** Time of the event that opened the session; never changes (the ClickHouse row's partition). */
  opened_at: z.number().int(),
  started_at: z.number().int(),
  last_event_at: z.number().int(),
  pageviews: z.number().int(),
  events: z.number().int(),
  /** Custom events that count as engagement (Plausible's `i: false` events do not). */
  interactive_events: z.number().int(),
  entry_page: z.string(),
  exit_page: z.string(),
  /** Time of the pageviews that set entry and exit, so late events are placed correctly. */
  entry_at: z.number().int(),
  exit_at: z.number().int(),
  referrer_host: z.string(),
  source: z.string(),
  channel: z.string(),
  utm_source: z.string(),
  utm_medium: z.string(),
  utm_campaign: z.string(),
  device_type: z.string(),
  browser: z.string(),
  os: z.string(),
  country: z.string(),
  is_bot: z.boolean(),
  /** Increments with every change: the version of the ClickHouse `sessions` row. */
  version: z.number().int(),
  // NOTE: fields added later go last — core/session/codec.ts stores sessions as positional arrays,
  // and a state stored before a field existed decodes with it as "".
  /** Host of the entry page (of the first event while the session has no pageview). */
  hostname: z.string(),
  utm_term: z.string(),
  utm_content: z.string(),
  browser_version: z.string(),
  os_version: z.string(),
  screen_resolution: z.string(),
  language: z.string(),
  region: z.string(),
  city: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

/** One visitor's state in the actor: the open session and the ids of recent events. */
export const VisitorStateSchema = z.strictObject({
  session: SessionSchema.nullable(),
  /** The session before the open one, so a late duplicate can still be given its session id. */
  previous_session_id: z.string(),
  /** 32-bit hashes of recent event ids, newest last. */
  recent: z.array(z.number().int()),
});
export type VisitorState = z.infer<typeof VisitorStateSchema>;

export interface SessionOutcome {
  session_id: string;
  is_new_session: boolean;
  is_duplicate: boolean;
}

/** What one event did to a session: its state before (null when it opened it) and after. */
export interface SessionChange {
  previous: Session | null;
  current: Session;
}

/**
 * Folds a batch's changes (in the order the actors made them) into one per session: the first
 * `previous` and the last `current`. A session belongs to one visitor, hence to one actor, so its
 * changes arrive in order and chain: each change's previous is the current before it. Keyed by
 * property too: a session id comes from its first event's id, and two properties may hold the same
 * event id (one export imported into both), so their sessions share an id and must not merge.
 */
export function netSessionChanges(changes: readonly SessionChange[]): SessionChange[] {
  const net = new Map<string, SessionChange>();
  for (const c of changes) {
    const key = `${c.current.property_id}\u0000${c.current.session_id}`;
    const seen = net.get(key);
    net.set(key, { previous: seen ? seen.previous : c.previous, current: c.current });
  }
  return [...net.values()];
}

export const EMPTY_VISITOR: VisitorState = { session: null, previous_session_id: "", recent: [] };

export function isBounce(s: Session): boolean {
  return s.pageviews === 1 && s.interactive_events === 0;
}

export function durationSeconds(s: Session): number {
  return Math.round((s.last_event_at - s.started_at) / 1000);
}

const idHash = (eventId: string) => hash64(eventId)[0];

/** Where the session came from: set by its first hit (by event time). */
const acquisition = (e: Event) => ({
  referrer_host: e.referrer_host,
  source: e.source,
  channel: e.channel,
  utm_source: e.utm_source,
  utm_medium: e.utm_medium,
  utm_campaign: e.utm_campaign,
  utm_term: e.utm_term,
  utm_content: e.utm_content,
});
const page = (e: Event) => e.page_path.slice(0, MAX_PAGE);

function open(e: Event): Session {
  const isPageview = e.event_type === "pageview";
  return {
    session_id: `s_${e.event_id}`,
    property_id: e.property_id,
    client_id: e.client_id,
    opened_at: e.event_timestamp,
    started_at: e.event_timestamp,
    last_event_at: e.event_timestamp,
    pageviews: isPageview ? 1 : 0,
    events: 1,
    interactive_events: !isPageview && e.interactive ? 1 : 0,
    entry_page: isPageview ? page(e) : "",
    exit_page: isPageview ? page(e) : "",
    entry_at: isPageview ? e.event_timestamp : Number.MAX_SAFE_INTEGER,
    exit_at: isPageview ? e.event_timestamp : 0,
    ...acquisition(e),
    device_type: e.device_type,
    browser: e.browser,
    os: e.os,
    country: e.country,
    is_bot: e.is_bot,
    version: 1,
    hostname: e.page_host,
    browser_version: e.browser_version,
    os_version: e.os_version,
    screen_resolution: e.screen_resolution ?? "",
    language: e.language ?? "",
    region: e.region,
    city: e.city,
  };
}

function extend(s: Session, e: Event): Session {
  const isPageview = e.event_type === "pageview";
  const next: Session = {
    ...s,
    started_at: Math.min(s.started_at, e.event_timestamp),
    last_event_at: Math.max(s.last_event_at, e.event_timestamp),
    pageviews: s.pageviews + (isPageview ? 1 : 0),
    events: s.events + 1,
    interactive_events: s.interactive_events + (!isPageview && e.interactive ? 1 : 0),
    is_bot: s.is_bot || e.is_bot,
    version: s.version + 1,
  };
  if (isPageview && e.event_timestamp < s.entry_at)
    Object.assign(next, { entry_page: page(e), entry_at: e.event_timestamp, hostname: e.page_host });
  if (isPageview && e.event_timestamp >= s.exit_at)
    Object.assign(next, { exit_page: page(e), exit_at: e.event_timestamp });
  // The first hit names the acquisition: a late event from before the start takes it over.
  if (e.event_timestamp < s.started_at) Object.assign(next, acquisition(e));
  return next;
}

/** The session a repeated event belonged to: the open one if it falls in its span, else the one before. */
function duplicateSession(state: VisitorState, event: Event): string {
  const open = state.session;
  if (open && event.event_timestamp >= open.started_at) return open.session_id;
  return state.previous_session_id || (open?.session_id ?? "");
}

/**
 * Applies one event to a visitor. An event after the timeout opens a new session; one from within
 * the window (before or after the current span) joins it; one older than the window belongs to a
 * session long closed and becomes a session of its own, leaving the open one untouched. Only event
 * time decides: a batch processed late (a queue backlog, an import) sessionises as it would live.
 */
export function advanceSession(
  state: VisitorState,
  event: Event,
  timeoutMs = SESSION_TIMEOUT_MS,
): { state: VisitorState; emitted: SessionChange[]; outcome: SessionOutcome } {
  const h = idHash(event.event_id);
  const current = state.session;
  if (state.recent.includes(h)) {
    return {
      state,
      emitted: [],
      outcome: { session_id: duplicateSession(state, event), is_new_session: false, is_duplicate: true },
    };
  }
  const recent = [...state.recent, h].slice(-REMEMBERED_IDS);
  const joins =
    current &&
    event.event_timestamp >= current.started_at - timeoutMs &&
    event.event_timestamp <= current.last_event_at + timeoutMs;
  if (current && joins) {
    const next = extend(current, event);
    return {
      state: { ...state, session: next, recent },
      emitted: [{ previous: current, current: next }],
      outcome: { session_id: next.session_id, is_new_session: false, is_duplicate: false },
    };
  }
  const fresh = open(event);
  const olderThanOpen = current !== null && event.event_timestamp < current.started_at;
  return {
    state: olderThanOpen
      ? { ...state, recent }
      : { session: fresh, previous_session_id: state.session?.session_id ?? state.previous_session_id, recent },
    emitted: [{ previous: null, current: fresh }],
    outcome: { session_id: fresh.session_id, is_new_session: true, is_duplicate: false },
  };
}

/** The visitor's open session once `now` is past its timeout, for the alarm to close. */
export function expired(state: VisitorState, now: number, timeoutMs = SESSION_TIMEOUT_MS): boolean {
  return state.session !== null && now - state.session.last_event_at > timeoutMs;
}
