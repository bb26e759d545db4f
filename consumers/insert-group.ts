/**
 * One run's ClickHouse writes (consumers/events-consumer.ts): its sessions' net changes to
 * `session_log`, then its events to `events`, each one insert whose deduplication token derives
 * from the message ids. The log goes first: the once-only check (consumers/once-only.ts) drops a
 * stored event's redeliveries before the actors, so its sessions must be logged by then.
 */
import {
  resyncRows,
  type SessionLogRow,
  storedEventKey,
  toClickHouseRow,
  toSessionLogRow,
} from "../core/clickhouse-row.ts";
import { sha256Hex } from "../core/hash.ts";
import type { Session, SessionChange } from "../core/session/session.ts";
import type { Annotation } from "../durable-objects/client.ts";
import type { EventSink } from "../platform/clickhouse-sink.ts";
import type { Parsed } from "./events-consumer.ts";

/** Deterministic token for a set of messages: the same messages give the same token, in any order. */
export async function dedupToken(messageIds: readonly string[]): Promise<string> {
  return `events-${await sha256Hex([...messageIds].sort().join("\n"))}`;
}

/** The session changes that belong to a group: those of the visitors its events come from. */
export function changesOf(group: readonly Parsed[], changes: readonly SessionChange[]): SessionChange[] {
  const ids = new Set(group.flatMap(({ body }) => body.events.map((e) => e.client_id)));
  return changes.filter((c) => ids.has(c.current.client_id));
}

function toLogRows(changes: readonly SessionChange[]): SessionLogRow[] {
  return changes.flatMap(({ previous, current }) =>
    previous ? [toSessionLogRow(previous, -1), toSessionLogRow(current, 1)] : [toSessionLogRow(current, 1)],
  );
}

export async function insertGroup(
  group: readonly Parsed[],
  annotation: Annotation,
  changes: readonly SessionChange[],
  resync: readonly Session[],
  sink: EventSink,
  logged: () => void = () => {},
): Promise<void> {
  // withoutStored left only events `events` lacks. On a redelivery the actors may have seen them
  // (its first delivery got that far): write those repeats too, one of each — two copies of one
  // event (a client's retry after a 503 whose send had landed) both come back as repeats.
  const placed = new Set<string>();
  const rows = group.flatMap(({ message, body }) =>
    body.events.flatMap((e) => {
      const outcome = annotation.outcomes.get(e);
      if (message.attempts > 1) {
        const key = storedEventKey(e.property_id, e.event_id);
        if (outcome?.is_duplicate && placed.has(key)) return [];
        placed.add(key);
      } else if (outcome?.is_duplicate) return [];
      return [toClickHouseRow(e, body.received_at, outcome?.session_id ?? "")];
    }),
  );
  const token = await dedupToken(group.map((p) => p.message.id));
  const logRows = toLogRows(changes);
  // A redelivery: its first delivery may have reached the actors (so its events are repeats now,
  // changing nothing) but not session_log. Bring the log to the sessions' current state.
  if (resync.length > 0 && group.some((p) => p.message.attempts > 1))
    logRows.push(...resyncRows(resync, await sink.loggedSessions(resync)));
  // The log first: once an event is in `events`, the once-only check drops its redeliveries before
  // the actors, so its sessions must be logged by then.
  if (logRows.length > 0) await sink.insertSessionLog(logRows, `${token}-session-log`);
  logged();
  if (rows.length > 0) await sink.insert(rows, token);
}
