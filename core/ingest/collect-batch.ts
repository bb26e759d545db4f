/**
 * The /collect body: one event, a JSON array of events, or `{"events":[…]}`, at most 20 events.
 * Each event is judged on its own, so a bad neighbour never costs a valid event its place.
 * Pure, so the Worker, the tests and the bench all run the same rules.
 */
import { type EventInput, EventInputSchema, eventIdentity } from "../event.ts";
import { type FieldIssue, toFieldIssues } from "../issues.ts";
import { DAY_MS } from "../time.ts";
import { fastEventInput } from "./event-fast.ts";

export const MAX_EVENTS_PER_REQUEST = 20;
/** Our spec's bound on one event's JSON (the request bound is 256 KB). */
export const MAX_EVENT_BYTES = 32 * 1024;
/** Public endpoints take events from at most this far back; older history goes through import. */
export const MAX_PAST_MS = 72 * 3600_000;
/** Clocks drift; events from further ahead than this are refused. */
export const MAX_FUTURE_MS = 5 * 60_000;

export type RejectionCode = "invalid_event" | "invalid_json" | "event_too_large" | "timestamp_out_of_range";

export type Candidate =
  | { index: number; ok: true; input: EventInput; event_id: string; event_timestamp: number }
  | { index: number; ok: false; code: RejectionCode; issues: FieldIssue[] };

export type CollectParse =
  | { ok: true; candidates: Candidate[] }
  | { ok: false; code: "invalid_body" | "too_many_events"; issues: FieldIssue[] };

export interface ParseOptions {
  nowMs: number;
  newId: (ms: number) => string;
  /** Apply the public 72 h / 5 min window (import does not). */
  enforceWindow: boolean;
  /**
   * Refuse events older than this many days (import: the retention period, ARCHIVE_RETENTION_DAYS),
   * which every store would delete at once: refused, never accepted and then lost.
   */
  retentionDays?: number;
  /** Size of the whole body; events are measured one by one only when it could hold an oversized one. */
  bodyBytes: number;
  maxEvents?: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Finds the list of raw events in any of the three accepted body shapes. */
export function unwrapEvents(body: unknown): unknown[] | FieldIssue {
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

/** Judges one raw event: schema, size, and (on public endpoints) the time window. */
export function judgeEvent(raw: unknown, index: number, options: ParseOptions): Candidate {
  const path = `events[${index}]`;
  if (options.bodyBytes > MAX_EVENT_BYTES && JSON.stringify(raw).length > MAX_EVENT_BYTES) {
    return {
      index,
      ok: false,
      code: "event_too_large",
      issues: [{ path, message: `exceeds ${MAX_EVENT_BYTES} bytes` }],
    };
  }
  let input = fastEventInput(raw);
  if (!input) {
    const result = EventInputSchema.safeParse(raw);
    if (!result.success) return { index, ok: false, code: "invalid_event", issues: toFieldIssues(result.error, path) };
    input = result.data;
  }
  const identity = eventIdentity(input, options.nowMs, options.newId);
  const age = options.nowMs - identity.event_timestamp;
  if (options.retentionDays !== undefined && age > options.retentionDays * DAY_MS)
    return {
      index,
      ok: false,
      code: "timestamp_out_of_range",
      issues: [
        {
          path: `${path}.event_timestamp`,
          message: `is older than the ${options.retentionDays}-day retention period (ARCHIVE_RETENTION_DAYS)`,
        },
      ],
    };
  if (options.enforceWindow) {
    const problem =
      age > MAX_PAST_MS
        ? "is more than 72 hours in the past; send history through POST /api/v1/import"
        : age < -MAX_FUTURE_MS
          ? "is more than 5 minutes in the future"
          : undefined;
    if (problem)
      return {
        index,
        ok: false,
        code: "timestamp_out_of_range",
        issues: [{ path: `${path}.event_timestamp`, message: problem }],
      };
  }
  return { index, ok: true, input, ...identity };
}

/** Splits a body into judged candidates; only a body with no event list at all is refused whole. */
export function parseCollectBody(body: unknown, options: ParseOptions): CollectParse {
  const raw = unwrapEvents(body);
  if (!Array.isArray(raw)) return { ok: false, code: "invalid_body", issues: [raw] };
  if (raw.length === 0)
    return { ok: false, code: "invalid_body", issues: [{ path: "events", message: "must not be empty" }] };
  const max = options.maxEvents ?? MAX_EVENTS_PER_REQUEST;
  if (raw.length > max) {
    const message = `has ${raw.length} events; at most ${max} are allowed per request`;
    return { ok: false, code: "too_many_events", issues: [{ path: "events", message }] };
  }
  return { ok: true, candidates: raw.map((candidate, index) => judgeEvent(candidate, index, options)) };
}
