/**
 * The event contract: what a client may send (`EventInputSchema`) and what Tally carries inside
 * once an event is accepted (`EventSchema`: id assigned, timestamp in epoch ms). Every layer,
 * the tracker included, imports these; types are inferred, never written by hand.
 */
import { z } from "zod";
import { parseTimestamp } from "./timestamp.ts";

/** Our spec's `UA-XXXXX-Y`, or any short slug; Umami's UUIDs fit too. */
export const PROPERTY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
/** Client-supplied event ids are kept (so retries dedupe); UUIDs and similar fit. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
const DIMENSIONS_PATTERN = /^\d{1,5}x\d{1,5}$/;
const LANGUAGE_PATTERN = /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}$/;
const CUSTOM_KEY_PATTERN = /^[A-Za-z0-9_.:$-]{1,64}$/;
export const MAX_URL_LENGTH = 2048;
export const MAX_CUSTOM_ENTRIES = 50;

const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL_CHARS.test(s), "must not contain control characters");

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol, hostname } = new URL(value);
  return (protocol === "http:" || protocol === "https:") && hostname.length > 0;
}

const httpUrl = z.string().max(MAX_URL_LENGTH).refine(isHttpUrl, "must be an absolute http(s) URL");

const boundedRecord = <V extends z.ZodType>(value: V) =>
  z
    .record(z.string().regex(CUSTOM_KEY_PATTERN, "keys must match [A-Za-z0-9_.:$-]{1,64}"), value)
    .refine((r) => Object.keys(r).length <= MAX_CUSTOM_ENTRIES, {
      message: `must have at most ${MAX_CUSTOM_ENTRIES} entries`,
    });

const timestampInput = z
  .union([z.number(), z.string().max(40)], {
    error: "must be epoch seconds, epoch milliseconds or ISO 8601",
  })
  .superRefine((value, ctx) => {
    const parsed = parseTimestamp(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.reason });
  });

const eventFields = {
  property_id: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug"),
  client_id: plainText(128).min(1),
  user_id: plainText(256).min(1).optional(),
  event_type: plainText(120).min(1),
  page_url: httpUrl,
  page_title: plainText(512).optional(),
  referrer: z.union([httpUrl, z.literal("")], { error: "must be an absolute http(s) URL or empty" }).optional(),
  user_agent: plainText(512).optional(),
  screen_resolution: z.string().regex(DIMENSIONS_PATTERN, "must look like 1920x1080").optional(),
  viewport_size: z.string().regex(DIMENSIONS_PATTERN, "must look like 1280x720").optional(),
  language: z.string().regex(LANGUAGE_PATTERN, "must be a language tag like en-US").optional(),
  custom_dimensions: boundedRecord(plainText(512)).optional(),
  custom_metrics: boundedRecord(z.number().finite()).optional(),
};

/** One event as a client sends it. Unknown fields are refused, so typos are not silently lost. */
export const EventInputSchema = z.strictObject({
  ...eventFields,
  event_id: z.string().regex(EVENT_ID_PATTERN, "must be 1-64 characters of [A-Za-z0-9._:-]").optional(),
  event_timestamp: timestampInput.optional(),
});
export type EventInput = z.infer<typeof EventInputSchema>;

/** One accepted event, as queues, actors, ClickHouse and the archive carry it. */
export const EventSchema = z.strictObject({
  ...eventFields,
  event_id: z.string().regex(EVENT_ID_PATTERN),
  /** Epoch milliseconds, UTC. */
  event_timestamp: z.number().int(),
});
export type Event = z.infer<typeof EventSchema>;

/** Completes a validated input: keeps a client's event_id, else assigns a UUIDv7; timestamps become epoch ms. */
export function normalizeEvent(input: EventInput, nowMs: number, newId: (ms: number) => string): Event {
  const parsed = input.event_timestamp === undefined ? undefined : parseTimestamp(input.event_timestamp);
  const eventTimestamp = parsed?.ok ? parsed.ms : nowMs;
  return { ...input, event_id: input.event_id ?? newId(nowMs), event_timestamp: eventTimestamp };
}
