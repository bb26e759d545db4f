/**
 * One row of GA4's BigQuery export (an `events_YYYYMMDD` table, one event per row, exported as
 * NDJSON) mapped to one import line (core/ingest/import-line.ts). Pure. Values that do not fit our bounds
 * are dropped and counted, never truncated; a row that cannot become an event is rejected with a
 * reason. The mapping table is in the README's "Import" section.
 *
 * This file maps what makes the event (name, instant, visitor, id, page URL with its campaign);
 * ga4-fields.ts the optional fields and custom dimensions and metrics; ga4-row.ts reads the columns.
 */
import { MAX_URL_LENGTH } from "../../core/event.ts";
import { hash64 } from "../../core/hash.ts";
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from "../../core/ingest/timestamp.ts";
import { customs, fields } from "./ga4-fields.ts";
import {
  type Drop,
  type Ga4Drop,
  httpUrl,
  type ImportLineInput,
  type Json,
  numeric,
  params,
  plain,
  record,
  text,
  type Value,
} from "./ga4-row.ts";

/** A row mapped: an event with its drop counts, an event not to import, or why it cannot be one. */
export type Ga4RowResult =
  | { kind: "event"; line: ImportLineInput; dropped: Partial<Record<Ga4Drop, number>> }
  | { kind: "skipped"; event_name: string }
  | { kind: "rejected"; reason: string };

/**
 * GA4's own session bookkeeping: we derive sessions from the events themselves, and as custom
 * events they would double the event count and end every bounce. Skipped unless asked otherwise.
 */
export const DEFAULT_GA4_SKIP: readonly string[] = ["session_start", "first_visit"];

/** 128 bits of hash64 (two seeds) as hex: deterministic ids for events that arrive without one. */
export function stableEventId(prefix: string, parts: readonly string[]): string {
  const input = JSON.stringify(parts);
  const hex = (n: number) => n.toString(16).padStart(8, "0");
  return `${prefix}${[...hash64(input, 0), ...hash64(input, 0x9e3779b9)].map(hex).join("")}`;
}

/** GA4 rows carry no id: the visitor, the instant, the name and whatever row-stable sequence the export has. */
export function ga4EventId(row: Json, micros: string): string {
  const parts = [text(row.user_pseudo_id) ?? "", micros, String(row.event_name)];
  for (const k of ["event_bundle_sequence_id", "batch_event_index", "batch_page_id", "batch_ordering_id"])
    parts.push(numeric(row[k])?.text ?? "");
  return stableEventId("ga4-", parts);
}

const CAMPAIGN_PARAMS = [
  ["manual_source", "utm_source"],
  ["manual_medium", "utm_medium"],
  ["manual_campaign_name", "utm_campaign"],
  ["manual_term", "utm_term"],
  ["manual_content", "utm_content"],
] as const;

/**
 * GA4 read the campaign from the landing URL, a Measurement Protocol call or auto-tagging. When the
 * URL itself does not carry it, it is appended as utm_* (and gclid), so our enrichment attributes the
 * visit as GA4 did. Appended as text, so the rest of the URL stays byte for byte.
 */
function withCampaign(url: string, collected: Json | undefined, drop: Drop): string {
  if (!collected) return url;
  const query = new URL(url).searchParams;
  const pairs: string[] = [];
  if (!query.has("utm_source") && !query.has("utm_medium") && !query.has("utm_campaign")) {
    for (const [from, to] of CAMPAIGN_PARAMS) {
      const v = text(collected[from]);
      if (v !== undefined) pairs.push(`${to}=${encodeURIComponent(v)}`);
    }
  }
  const gclid = text(collected.gclid);
  if (gclid !== undefined && !query.has("gclid")) pairs.push(`gclid=${encodeURIComponent(gclid)}`);
  if (pairs.length === 0) return url;
  const hashAt = url.indexOf("#");
  const [base, hash] = hashAt < 0 ? [url, ""] : [url.slice(0, hashAt), url.slice(hashAt)];
  const sep = !base.includes("?") ? "?" : base.endsWith("?") || base.endsWith("&") ? "" : "&";
  const out = `${base}${sep}${pairs.join("&")}${hash}`;
  if (out.length > MAX_URL_LENGTH) {
    drop("campaign");
    return url;
  }
  return out;
}

/** Our page_url: page_location, else (never for a page_view) the stream's hostname. */
function pageUrl(row: Json, p: Map<string, Value>, isPageview: boolean, drop: Drop): string | { reason: string } {
  const location = p.get("page_location");
  const url = httpUrl(location?.text);
  if (url) return url;
  if (isPageview)
    return {
      reason: location
        ? "page_view: page_location is not an absolute http(s) URL of at most 2048 characters"
        : "page_view: no page_location param",
    };
  const hostname = text(record(record(row.device)?.web_info)?.hostname) ?? text(record(row.event_dimensions)?.hostname);
  const fallback = hostname === undefined ? undefined : httpUrl(`https://${hostname}/`);
  if (!fallback) return { reason: "no usable page_location param and no device.web_info.hostname to stand in" };
  if (location) drop("page_location");
  return fallback;
}

function microsOf(v: unknown): string | undefined {
  const n = numeric(v);
  if (!n || !Number.isInteger(n.value)) return undefined;
  const ms = Math.floor(n.value / 1000);
  return ms >= MIN_TIMESTAMP_MS && ms < MAX_TIMESTAMP_MS ? String(n.value) : undefined;
}

/** Maps one export row; `skip` names events not to import (default: GA4's session bookkeeping). */
export function mapGa4BigQueryRow(value: unknown, skip: ReadonlySet<string> = new Set(DEFAULT_GA4_SKIP)): Ga4RowResult {
  const row = record(value);
  if (!row) return { kind: "rejected", reason: "must be a JSON object (one row of an events_* table)" };
  const name = plain(typeof row.event_name === "string" && row.event_name !== "" ? row.event_name : undefined, 120);
  if (name === undefined) return { kind: "rejected", reason: "event_name: missing, or not 1-120 characters of text" };
  if (skip.has(name)) return { kind: "skipped", event_name: name };
  const micros = microsOf(row.event_timestamp);
  if (micros === undefined)
    return { kind: "rejected", reason: "event_timestamp: must be microseconds since the epoch, 2000 to 2100" };
  const clientId = plain(text(row.user_pseudo_id), 128);
  if (clientId === undefined)
    return { kind: "rejected", reason: "user_pseudo_id: missing (consent-mode cookieless pings have none)" };
  const dropped: Partial<Record<Ga4Drop, number>> = {};
  const drop: Drop = (d) => {
    dropped[d] = (dropped[d] ?? 0) + 1;
  };
  const p = params(row.event_params);
  const page = pageUrl(row, p, name === "page_view", drop);
  if (typeof page !== "string") return { kind: "rejected", reason: page.reason };
  const line: ImportLineInput = {
    event_id: ga4EventId(row, micros),
    client_id: clientId,
    event_type: name === "page_view" ? "pageview" : name,
    event_timestamp: Math.floor(Number(micros) / 1000),
    page_url: withCampaign(page, record(row.collected_traffic_source), drop),
    ...fields(row, p, drop),
    ...customs(row, p, drop),
  };
  return { kind: "event", line, dropped };
}
