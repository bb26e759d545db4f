/**
 * Both ends of the GA4 BigQuery mapping (ga4-bigquery.ts): an export row's columns and params, read
 * as BigQuery's JSON writes them and kept only within our bounds; the import line they become; and
 * the names of what is dropped on the way.
 */
import type { z } from "zod";
import { CONTROL_CHARS, type EventInput, isHttpUrl, MAX_CUSTOM_ENTRIES, MAX_URL_LENGTH } from "../../core/event.ts";
import type { ImportGeoSchema } from "../../core/ingest/import-line.ts";

/** One line of an import body, as `POST /api/v1/import` reads it (the property comes from the URL). */
export type ImportLineInput = Omit<EventInput, "property_id"> & z.infer<typeof ImportGeoSchema>;

/** What is dropped from a row rather than failing it, with the words the CLI's summary uses. */
export const GA4_DROPS = {
  dimension_limit: `custom dimensions beyond ${MAX_CUSTOM_ENTRIES} per event`,
  metric_limit: `custom metrics beyond ${MAX_CUSTOM_ENTRIES} per event`,
  text_value:
    "text over its bound (dimensions and titles 512, user_id 256, region and city 128) or with control characters",
  key: "param names outside [A-Za-z0-9_.:$-]{1,64}",
  country: "country names with no ISO 3166 code",
  language: "device.language values that are not language tags",
  referrer: "page_referrer values that are not http(s) URLs",
  page_location: "unusable page_location on non-page_view events (the hostname stood in)",
  campaign: "collected_traffic_source values that would make page_url longer than 2048",
  items: "ecommerce items arrays (no item-level schema)",
} as const;
export type Ga4Drop = keyof typeof GA4_DROPS;

/** Counts one dropped value under its reason. */
export type Drop = (d: Ga4Drop) => void;

/** An export row, or any JSON object inside one. */
export type Json = Record<string, unknown>;
/** A param's value: text, or a number with the digits the export wrote. */
export type Value = { kind: "string"; text: string } | { kind: "number"; value: number; text: string };

/** GA4's ways of writing nothing. */
export const NOT_SET = new Set(["", "(not set)", "(not provided)"]);

/** The value as a JSON object, if it is one. */
export const record = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

/** A GA4 text column: absent, empty and GA4's "(not set)" are all nothing. */
export function text(v: unknown): string | undefined {
  return typeof v === "string" && !NOT_SET.has(v) ? v : undefined;
}

/** BigQuery's JSON writes INT64 as a string and FLOAT64 as a number; accept both for any numeric column. */
export function numeric(v: unknown): { value: number; text: string } | undefined {
  if (typeof v === "number" && Number.isFinite(v)) return { value: v, text: String(v) };
  if (typeof v === "string" && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v.trim())) {
    const value = Number(v);
    return Number.isFinite(value) ? { value, text: v.trim() } : undefined;
  }
  return undefined;
}

/** `{string_value, int_value, float_value, double_value}`: the one that is set. */
function paramValue(v: unknown): Value | undefined {
  const o = record(v);
  if (!o) return undefined;
  if (typeof o.string_value === "string") return { kind: "string", text: o.string_value };
  for (const k of ["int_value", "double_value", "float_value"]) {
    const n = numeric(o[k]);
    if (n) return { kind: "number", ...n };
  }
  return undefined;
}

/** An `event_params` or `user_properties` array as a map; the first of a repeated key wins. */
export function params(list: unknown): Map<string, Value> {
  const out = new Map<string, Value>();
  if (!Array.isArray(list)) return out;
  for (const p of list) {
    const o = record(p);
    const value = paramValue(o?.value);
    if (o && typeof o.key === "string" && value && !out.has(o.key)) out.set(o.key, value);
  }
  return out;
}

/** Text of at most `max` characters, well formed and without control characters. */
export function plain(v: string | undefined, max: number): string | undefined {
  return v !== undefined && v.length <= max && !CONTROL_CHARS.test(v) && v.isWellFormed() ? v : undefined;
}

/** An absolute http(s) URL within our length bound. */
export function httpUrl(v: string | undefined): string | undefined {
  return v !== undefined && v.length <= MAX_URL_LENGTH && v.isWellFormed() && isHttpUrl(v) ? v : undefined;
}
