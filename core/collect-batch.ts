/**
 * The /collect body: one event, a JSON array of events, or `{"events":[…]}`, at most 20 events.
 * Pure, so the Worker, the tests and the bench all run the same rules.
 */
import { type Event, EventInputSchema, normalizeEvent } from "./event.ts";
import { type FieldIssue, toFieldIssues } from "./issues.ts";

export const MAX_EVENTS_PER_REQUEST = 20;

export type CollectParse =
  | { ok: true; events: Event[] }
  | { ok: false; code: "invalid_body" | "too_many_events" | "invalid_event"; issues: FieldIssue[] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Finds the list of raw events in any of the three accepted body shapes. */
function unwrap(body: unknown): unknown[] | FieldIssue {
  if (Array.isArray(body)) return body;
  if (isPlainObject(body) && "events" in body) {
    const extra = Object.keys(body).filter((k) => k !== "events");
    if (extra.length > 0) return { path: extra[0] ?? "", message: "is not a known field next to events" };
    if (!Array.isArray(body.events)) return { path: "events", message: "must be an array of events" };
    return body.events;
  }
  if (isPlainObject(body)) return [body];
  return { path: "", message: 'must be an event object, an array of events or {"events":[…]}' };
}

/** Validates and normalises every event; any invalid event makes the whole body invalid. */
export function parseCollectBody(body: unknown, nowMs: number, newId: (ms: number) => string): CollectParse {
  const raw = unwrap(body);
  if (!Array.isArray(raw)) return { ok: false, code: "invalid_body", issues: [raw] };
  if (raw.length === 0)
    return { ok: false, code: "invalid_body", issues: [{ path: "events", message: "must not be empty" }] };
  if (raw.length > MAX_EVENTS_PER_REQUEST) {
    const message = `has ${raw.length} events; at most ${MAX_EVENTS_PER_REQUEST} are allowed per request`;
    return { ok: false, code: "too_many_events", issues: [{ path: "events", message }] };
  }
  const events: Event[] = [];
  const issues: FieldIssue[] = [];
  raw.forEach((candidate, index) => {
    const result = EventInputSchema.safeParse(candidate);
    if (result.success) events.push(normalizeEvent(result.data, nowMs, newId));
    else issues.push(...toFieldIssues(result.error, `events[${index}]`));
  });
  return issues.length > 0 ? { ok: false, code: "invalid_event", issues } : { ok: true, events };
}
