/**
 * Replay as a pure step: archived events in, the rows the live path would have written out. The
 * same reducer (`advanceSession`) decides sessions, repeats are recognised the same way, and each
 * chunk's session changes become the same signed `session_log` rows — so a projection rebuilt from
 * the archive equals the one built live.
 */
import { z } from "zod";
import { type EventRow, type SessionLogRow, toClickHouseRow, toSessionLogRow } from "../clickhouse-row.ts";
import { type Event, PROPERTY_ID_PATTERN } from "../event.ts";
import {
  advanceSession,
  EMPTY_VISITOR,
  netSessionChanges,
  type SessionChange,
  type VisitorState,
} from "../session/session.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";

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

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** The tables a replay rewrites, and the time column that places a row in the range. */
export const REPLAY_CLEARED: readonly [table: string, column: string][] = [
  ["events", "event_timestamp"],
  ["session_log", "opened_at"],
  ["sessions", "opened_at"],
  ["events_rollup", "hour"],
  ["sessions_rollup", "hour"],
  // One-day rows of the range go and return; longer blocks are rebuilt at the end
  // (core/query/rollup-spans.ts respanStatements).
  ["events_rollup_days", "day"],
  ["sessions_rollup_days", "day"],
];

/**
 * The statements that clear one property's rows in [from, to) from every table a replay rewrites:
 * lightweight deletes, run synchronously (`lightweight_deletes_sync`) so the replay writes into
 * tables that no longer hold the range. Table and column names come from REPLAY_CLEARED only.
 */
export function clearStatements(propertyId: string, from: number, to: number) {
  return REPLAY_CLEARED.map(([table, column]) => ({
    sql: `DELETE FROM ${table} WHERE property_id = {p:String} AND ${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
    params: { p: propertyId, from, to },
    settings: { lightweight_deletes_sync: "2" },
  }));
}

/** Read around the range so sessions crossing its edges keep their true shape (only rows inside are written). */
export const REPLAY_MARGIN_MS = HOUR_MS;

export const ReplaySpecSchema = z
  .strictObject({
    from: z.string().regex(DATE, "must be a date such as 2026-11-01"),
    to: z.string().regex(DATE, "must be a date such as 2026-11-07 (inclusive)"),
    property: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug").optional(),
    target: z
      .enum(["clickhouse", "actors", "all"], { error: 'must be "clickhouse", "actors" or "all"' })
      .default("all"),
  })
  .refine((s) => Number.isFinite(Date.parse(s.from)) && Number.isFinite(Date.parse(s.to)), {
    message: "from and to must be calendar dates",
    path: ["from"],
  })
  .refine((s) => s.from <= s.to, { message: "must not be after to", path: ["from"] })
  .refine((s) => Date.parse(s.to) - Date.parse(s.from) <= 366 * DAY_MS, {
    message: "a replay spans at most 366 days; run several",
    path: ["to"],
  });
export type ReplaySpec = z.infer<typeof ReplaySpecSchema>;

/** The instants a spec covers: whole UTC days, `to` inclusive. */
export function replayRange(spec: ReplaySpec): [number, number] {
  return [Date.parse(`${spec.from}T00:00:00Z`), Date.parse(`${spec.to}T00:00:00Z`) + DAY_MS];
}

/** The hours to read, in order, margins included. */
export function replayHours(spec: ReplaySpec): number[] {
  const [from, to] = replayRange(spec);
  const hours: number[] = [];
  for (let h = from - REPLAY_MARGIN_MS; h < to + REPLAY_MARGIN_MS; h += HOUR_MS) hours.push(h);
  return hours;
}

/** Only what lies inside the range is written: margins only shape the sessions. */
export function withinRange(rows: ReplayRows, [from, to]: [number, number]): ReplayRows {
  const inside = (text: string) => {
    const ms = Date.parse(`${text.replace(" ", "T")}Z`);
    return ms >= from && ms < to;
  };
  return {
    events: rows.events.filter((r) => inside(r.event_timestamp)),
    sessionLog: rows.sessionLog.filter((r) => inside(String(r.opened_at))),
  };
}
