/**
 * The event contract: what a client may send (`EventInputSchema`) and what Tally carries inside
 * once an event is accepted (`EventSchema`: id assigned, timestamp in epoch ms). Every layer,
 * the tracker included, imports these; types are inferred, never written by hand.
 */
import { z } from "zod";
import { BOT_REASONS } from "./enrich/bot.ts";
import { CHANNELS } from "./enrich/referrer.ts";
import { DEVICE_TYPES } from "./enrich/user-agent.ts";
import { parseTimestamp } from "./ingest/timestamp.ts";
import { parseUrl } from "./url.ts";

/** Our spec's `UA-XXXXX-Y`, or any short slug; Umami's UUIDs fit too. */
export const PROPERTY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;
/** The archive's partition for small property-hours pooled together (core/archive/staging.ts): no property may take it. */
export const POOLED_ARCHIVE_ID = "tally-pooled";
/** Client-supplied event ids are kept (so retries dedupe); UUIDs and similar fit. */
export const EVENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
export const DIMENSIONS_PATTERN = /^\d{1,5}x\d{1,5}$/;
export const LANGUAGE_PATTERN = /^[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}$/;
export const CUSTOM_KEY_PATTERN = /^[A-Za-z0-9_.:$-]{1,64}$/;
export const MAX_URL_LENGTH = 2048;
export const MAX_CUSTOM_ENTRIES = 50;

/** Lone UTF-16 surrogates survive JSON and JavaScript but not ClickHouse or Parquet: refuse them here. */
const wellFormed = (s: string) => s.isWellFormed();
const WELL_FORMED = "must be valid Unicode (no lone surrogates)";

const plainText = (max: number) =>
  z
    .string()
    .max(max)
    .refine(wellFormed, WELL_FORMED)
    .refine((s) => !CONTROL_CHARS.test(s), "must not contain control characters");

export function isHttpUrl(value: string): boolean {
  const url = parseUrl(value);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
}

// Browsers percent-encode control characters in URLs; a raw one was stored as sent (found by the fuzz suite).
const httpUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .refine(wellFormed, { message: WELL_FORMED, abort: true })
  .refine((s) => !CONTROL_CHARS.test(s), { message: "must not contain control characters", abort: true })
  .refine(isHttpUrl, "must be an absolute http(s) URL");

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
  /** The tracker's first-party visitor id; without it the edge derives a cookieless one. */
  client_id: plainText(128).min(1).optional(),
  event_id: z.string().regex(EVENT_ID_PATTERN, "must be 1-64 characters of [A-Za-z0-9._:-]").optional(),
  event_timestamp: timestampInput.optional(),
});
export type EventInput = z.infer<typeof EventInputSchema>;

export const SOURCE_PROTOCOLS = ["tally", "plausible", "ga4", "umami", "import"] as const;
const label = z.string().max(256);

/** What the edge adds to every accepted event (user agent, geography, URL, referrer, privacy, bots). */
export const EnrichmentSchema = z.strictObject({
  visitor_id_source: z.enum(["client", "cookieless"]),
  source_protocol: z.enum(SOURCE_PROTOCOLS),
  /** False for events that must not end a bounce (Plausible's `i: false`). */
  interactive: z.boolean(),
  browser: label,
  browser_version: label,
  os: label,
  os_version: label,
  device_type: z.enum(DEVICE_TYPES),
  country: label,
  region: label,
  city: label,
  continent: label,
  geo_timezone: label,
  asn: z.number().int().min(0),
  page_host: label,
  page_path: z.string().max(MAX_URL_LENGTH),
  utm_source: label,
  utm_medium: label,
  utm_campaign: label,
  utm_term: label,
  utm_content: label,
  click_id_type: label,
  referrer_host: label,
  source: label,
  channel: z.enum(CHANNELS),
  /** The truncated IP prefix, or empty when the property keeps none; never the raw address. */
  ip_prefix: z.string().max(64),
  is_bot: z.boolean(),
  bot_reason: z.union([z.enum(BOT_REASONS), z.literal("")]),
});
export type Enrichment = z.infer<typeof EnrichmentSchema>;

/** One accepted event, as queues, actors, ClickHouse and the archive carry it. */
export const EventSchema = z.strictObject({
  ...eventFields,
  /** The visitor: the tracker's client_id, or the cookieless id the edge derived. */
  client_id: plainText(128).min(1),
  event_id: z.string().regex(EVENT_ID_PATTERN),
  /** Epoch milliseconds, UTC. */
  event_timestamp: z.number().int(),
  ...EnrichmentSchema.shape,
});
export type Event = z.infer<typeof EventSchema>;

/** The id and instant of a validated input: a client's event_id is kept, else a UUIDv7; epoch ms. */
export function eventIdentity(
  input: EventInput,
  nowMs: number,
  newId: (ms: number) => string,
): { event_id: string; event_timestamp: number } {
  const parsed = input.event_timestamp === undefined ? undefined : parseTimestamp(input.event_timestamp);
  return { event_id: input.event_id ?? newId(nowMs), event_timestamp: parsed?.ok ? parsed.ms : nowMs };
}
