/**
 * Replay as a pure step: archived events in, the rows the live path would have written out. The
 * same reducer (`advanceSession`) decides sessions, repeats are recognised the same way, and each
 * chunk's session changes become the same signed `session_log` rows — so a projection rebuilt from
 * the archive equals the one built live.
 */
import { type EventRow, type SessionLogRow, toClickHouseRow, toSessionLogRow } from "./clickhouse-row.ts";
import type { Event } from "./event.ts";
import { advanceSession, EMPTY_VISITOR, netSessionChanges, type SessionChange, type VisitorState } from "./session.ts";

export interface ReplayRows {
  events: EventRow[];
  sessionLog: SessionLogRow[];
}

/** Visitor states carried from one chunk to the next, keyed `property|client`. */
export type VisitorStates = Map<string, VisitorState>;

const visitorKey = (e: Event) => `${e.property_id}|${e.client_id}`;

/**
 * Applies one chunk (any order; sorted here by event time) to the carried states and returns its
 * rows. `receivedAt` gives each event's original arrival time when the archive kept it.
 */
export function replayChunk(
  events: readonly Event[],
  states: VisitorStates,
  receivedAt: (e: Event) => number = (e) => e.event_timestamp,
): ReplayRows {
  const ordered = [...events].sort((a, b) => a.event_timestamp - b.event_timestamp);
  const rows: ReplayRows = { events: [], sessionLog: [] };
  const changes: SessionChange[] = [];
  for (const event of ordered) {
    const key = visitorKey(event);
    const step = advanceSession(states.get(key) ?? EMPTY_VISITOR, event);
    states.set(key, step.state);
    changes.push(...step.emitted);
    if (!step.outcome.is_duplicate)
      rows.events.push(toClickHouseRow(event, receivedAt(event), step.outcome.session_id));
  }
  for (const { previous, current } of netSessionChanges(changes)) {
    if (previous) rows.sessionLog.push(toSessionLogRow(previous, -1));
    rows.sessionLog.push(toSessionLogRow(current, 1));
  }
  return rows;
}
