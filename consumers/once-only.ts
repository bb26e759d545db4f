/**
 * Once-only across every path (#15): before the actors, the consumer asks ClickHouse which of the
 * run's events `events` holds already and drops them, on first deliveries too. The session actors
 * remember only a visitor's last 32 event ids, so without this an import run twice, a redelivery
 * regrouped with other messages (a new insert token) or an event arriving after a replay wrote it
 * would be sessionised and written again. The archive keeps every copy (it is the log; readers
 * dedupe by property and event id).
 *
 * It holds because the consumer writes `session_log` before `events`: an event in `events` has its
 * sessions' changes logged, so dropping it loses nothing. What it cannot see is a copy not yet
 * written — two deliveries of one new event in flight at once — which the actors still catch
 * within a visitor's last 32 ids.
 */
import { storedEventKey } from "../core/clickhouse-row.ts";
import type { EventsMessage } from "../core/ingest/queue-message.ts";
import type { EventSink } from "../platform/clickhouse-sink.ts";

/** A run without the events ClickHouse holds already, and how many those were. */
export async function withoutStored<T extends { body: EventsMessage }>(
  run: readonly T[],
  sink: Pick<EventSink, "storedEventIds">,
): Promise<{ run: T[]; stored: number }> {
  const events = run.flatMap((p) => p.body.events);
  const stored = events.length > 0 ? await sink.storedEventIds(events) : new Set<string>();
  if (stored.size === 0) return { run: [...run], stored: 0 };
  let dropped = 0;
  const kept = run.map((p) => {
    const fresh = p.body.events.filter((e) => !stored.has(storedEventKey(e.property_id, e.event_id)));
    dropped += p.body.events.length - fresh.length;
    return fresh.length === p.body.events.length ? p : { ...p, body: { ...p.body, events: fresh } };
  });
  return { run: kept, stored: dropped };
}
