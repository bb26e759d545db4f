/**
 * A fast path in front of EventInputSchema for the common, valid event. zod is the definition and
 * names every problem; in workerd it runs without code generation and costs more than the rest
 * of a one-event request, so valid events are first checked here against the very same rules
 * (the constants come from event.ts). Anything unusual or invalid returns undefined and goes to
 * zod. A test holds the two equal: whatever this accepts, zod accepts identically.
 */
import {
  CONTROL_CHARS,
  CUSTOM_KEY_PATTERN,
  DIMENSIONS_PATTERN,
  EVENT_ID_PATTERN,
  type EventInput,
  isHttpUrl,
  LANGUAGE_PATTERN,
  MAX_CUSTOM_ENTRIES,
  MAX_URL_LENGTH,
  PROPERTY_ID_PATTERN,
} from "../event.ts";
import { parseTimestamp } from "./timestamp.ts";

const text = (v: unknown, min: number, max: number): boolean =>
  typeof v === "string" && v.length >= min && v.length <= max && v.isWellFormed() && !CONTROL_CHARS.test(v);
const url = (v: unknown): boolean =>
  typeof v === "string" && v.length <= MAX_URL_LENGTH && v.isWellFormed() && !CONTROL_CHARS.test(v) && isHttpUrl(v);
const optional = (v: unknown, check: (v: unknown) => boolean) => v === undefined || check(v);

function record(v: unknown, value: (x: unknown) => boolean): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype)
    return false;
  const keys = Object.keys(v);
  if (keys.length > MAX_CUSTOM_ENTRIES) return false;
  for (const k of keys) if (!CUSTOM_KEY_PATTERN.test(k) || !value((v as Record<string, unknown>)[k])) return false;
  return true;
}

// A Map, not an object literal: a key like "constructor" must not find Object.prototype's.
const CHECKS = new Map<string, (v: unknown) => boolean>(
  Object.entries({
    property_id: (v) => typeof v === "string" && PROPERTY_ID_PATTERN.test(v),
    client_id: (v) => text(v, 1, 128),
    user_id: (v) => text(v, 1, 256),
    event_type: (v) => text(v, 1, 120),
    page_url: url,
    page_title: (v) => text(v, 0, 512),
    referrer: (v) => v === "" || url(v),
    user_agent: (v) => text(v, 0, 512),
    screen_resolution: (v) => typeof v === "string" && DIMENSIONS_PATTERN.test(v),
    viewport_size: (v) => typeof v === "string" && DIMENSIONS_PATTERN.test(v),
    language: (v) => typeof v === "string" && LANGUAGE_PATTERN.test(v),
    custom_dimensions: (v) => record(v, (x) => text(x, 0, 512)),
    custom_metrics: (v) => record(v, (x) => typeof x === "number" && Number.isFinite(x)),
    event_id: (v) => typeof v === "string" && EVENT_ID_PATTERN.test(v),
    event_timestamp: (v: unknown) =>
      (typeof v === "number" || (typeof v === "string" && v.length <= 40)) && parseTimestamp(v).ok,
  }),
);
const REQUIRED = ["property_id", "event_type", "page_url"];

/** The event, typed, when it certainly passes EventInputSchema; undefined means "ask zod". */
export function fastEventInput(raw: unknown): EventInput | undefined {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || Object.getPrototypeOf(raw) !== Object.prototype)
    return undefined;
  const fields = raw as Record<string, unknown>;
  for (const key of REQUIRED) if (fields[key] === undefined) return undefined;
  for (const key of Object.keys(fields)) {
    const check = CHECKS.get(key);
    if (!check || !optional(fields[key], check)) return undefined;
  }
  return fields as EventInput;
}
