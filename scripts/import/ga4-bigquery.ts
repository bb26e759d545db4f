/**
 * One row of GA4's BigQuery export (an `events_YYYYMMDD` table, one event per row, exported as
 * NDJSON) mapped to one import line (core/ingest/import-line.ts). Pure. Values that do not fit our bounds
 * are dropped and counted, never truncated; a row that cannot become an event is rejected with a
 * reason. The mapping table is in the README's "Import" section.
 */
import type { z } from "zod";
import {
  CONTROL_CHARS,
  CUSTOM_KEY_PATTERN,
  DIMENSIONS_PATTERN,
  type EventInput,
  isHttpUrl,
  LANGUAGE_PATTERN,
  MAX_CUSTOM_ENTRIES,
  MAX_URL_LENGTH,
} from "../../core/event.ts";
import { hash64 } from "../../core/hash.ts";
import type { ImportGeoSchema } from "../../core/ingest/import-line.ts";
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS } from "../../core/ingest/timestamp.ts";

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

export type Ga4RowResult =
  | { kind: "event"; line: ImportLineInput; dropped: Partial<Record<Ga4Drop, number>> }
  | { kind: "skipped"; event_name: string }
  | { kind: "rejected"; reason: string };

/**
 * GA4's own session bookkeeping: we derive sessions from the events themselves, and as custom
 * events they would double the event count and end every bounce. Skipped unless asked otherwise.
 */
export const DEFAULT_GA4_SKIP: readonly string[] = ["session_start", "first_visit"];

/** Params that become our own fields, or GA4 plumbing with no meaning once imported. */
const FIELD_PARAMS = new Set(["page_location", "page_referrer", "page_title", "screen_resolution", "language"]);
const PLUMBING_PARAMS = new Set(["ignore_referrer", "debug_mode", "batch_page_id", "batch_ordering_id"]);
/** Integer params that identify rather than measure: kept as dimensions, digit for digit. */
const ID_PARAMS = new Set(["ga_session_id", "ga_session_number"]);
const NOT_SET = new Set(["", "(not set)", "(not provided)"]);
const MAX_DIMENSION = 512;

type Json = Record<string, unknown>;
type Drop = (d: Ga4Drop) => void;
type Value = { kind: "string"; text: string } | { kind: "number"; value: number; text: string };

const record = (v: unknown): Json | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

/** A GA4 text column: absent, empty and GA4's "(not set)" are all nothing. */
function text(v: unknown): string | undefined {
  return typeof v === "string" && !NOT_SET.has(v) ? v : undefined;
}

/** BigQuery's JSON writes INT64 as a string and FLOAT64 as a number; accept both for any numeric column. */
function numeric(v: unknown): { value: number; text: string } | undefined {
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

function params(list: unknown): Map<string, Value> {
  const out = new Map<string, Value>();
  if (!Array.isArray(list)) return out;
  for (const p of list) {
    const o = record(p);
    const value = paramValue(o?.value);
    if (o && typeof o.key === "string" && value && !out.has(o.key)) out.set(o.key, value);
  }
  return out;
}

function plain(v: string | undefined, max: number): string | undefined {
  return v !== undefined && v.length <= max && !CONTROL_CHARS.test(v) && v.isWellFormed() ? v : undefined;
}

function httpUrl(v: string | undefined): string | undefined {
  return v !== undefined && v.length <= MAX_URL_LENGTH && v.isWellFormed() && isHttpUrl(v) ? v : undefined;
}

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

/** Custom dimensions and metrics under our bounds: first come, first kept; the rest counted. */
class Customs {
  readonly dimensions: Record<string, string> = {};
  readonly metrics: Record<string, number> = {};
  readonly #drop: Drop;
  constructor(drop: Drop) {
    this.#drop = drop;
  }

  add(key: string, value: Value | undefined): void {
    const problem = value && this.#place(key, value);
    if (problem) this.#drop(problem);
  }

  /** Stores the value if it fits; says why not if it does not (a repeated key or "(not set)" is no loss). */
  #place(key: string, value: Value): Ga4Drop | undefined {
    if (!CUSTOM_KEY_PATTERN.test(key)) return "key";
    if (value.kind === "number") {
      if (key in this.metrics) return undefined;
      if (Object.keys(this.metrics).length >= MAX_CUSTOM_ENTRIES) return "metric_limit";
      this.metrics[key] = value.value;
      return undefined;
    }
    if (key in this.dimensions || NOT_SET.has(value.text)) return undefined;
    if (plain(value.text, MAX_DIMENSION) === undefined) return "text_value";
    if (Object.keys(this.dimensions).length >= MAX_CUSTOM_ENTRIES) return "dimension_limit";
    this.dimensions[key] = value.text;
    return undefined;
  }

  addText(key: string, v: unknown): void {
    const t = text(v);
    this.add(key, t === undefined ? undefined : { kind: "string", text: t });
  }

  addNumber(key: string, v: unknown): void {
    const n = numeric(v);
    this.add(key, n && { kind: "number", ...n });
  }
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

type Fields = Omit<ImportLineInput, "event_id" | "client_id" | "event_type" | "event_timestamp" | "page_url">;

/** Keeps a value when it passes `check`; counts it as dropped when it was there and does not. */
function fitting(raw: string | undefined, check: (v: string) => string | undefined, reason: Ga4Drop, drop: Drop) {
  const v = raw === undefined || raw === "" ? undefined : check(raw);
  if (v === undefined && raw !== undefined && raw !== "") drop(reason);
  return v;
}

/** The optional fields of our contract: user, title, referrer, language, screen, geography. */
function fields(row: Json, p: Map<string, Value>, drop: Drop): Fields {
  const out: Fields = {};
  const device = record(row.device) ?? {};
  const geo = record(row.geo) ?? {};
  out.user_id = fitting(text(row.user_id), (v) => plain(v, 256), "text_value", drop);
  out.page_title = fitting(p.get("page_title")?.text, (v) => plain(v, 512), "text_value", drop);
  // GA4 sets ignore_referrer on hits whose referrer is the site's own (or a listed) domain.
  if (p.get("ignore_referrer")?.text !== "true")
    out.referrer = fitting(p.get("page_referrer")?.text, httpUrl, "referrer", drop);
  const language = text(device.language) ?? p.get("language")?.text;
  out.language = fitting(language, (v) => (LANGUAGE_PATTERN.test(v) ? v : undefined), "language", drop);
  const screen = p.get("screen_resolution")?.text;
  if (screen !== undefined && DIMENSIONS_PATTERN.test(screen)) out.screen_resolution = screen;
  out.country = fitting(text(geo.country), countryCode, "country", drop);
  out.region = fitting(text(geo.region), (v) => plain(v, 128), "text_value", drop);
  out.city = fitting(text(geo.city), (v) => plain(v, 128), "text_value", drop);
  for (const key of Object.keys(out) as (keyof Fields)[]) if (out[key] === undefined) delete out[key];
  return out;
}

/** Custom dimensions and metrics, in priority order: the event's own params, its ecommerce totals, then context. */
function customs(row: Json, p: Map<string, Value>, drop: Drop): Fields {
  const c = new Customs(drop);
  for (const [key, v] of p) {
    if (FIELD_PARAMS.has(key) || PLUMBING_PARAMS.has(key)) continue;
    c.add(key, ID_PARAMS.has(key) ? { kind: "string", text: v.text } : v);
  }
  const ecommerce = record(row.ecommerce);
  if (ecommerce) {
    c.addNumber("revenue", ecommerce.purchase_revenue);
    c.addNumber("revenue_in_usd", ecommerce.purchase_revenue_in_usd);
    for (const k of ["refund_value", "shipping_value", "tax_value", "total_item_quantity", "unique_items"])
      c.addNumber(k, ecommerce[k]);
    c.addText("transaction_id", ecommerce.transaction_id);
  }
  if (Array.isArray(row.items) && row.items.length > 0) drop("items");
  c.addNumber("event_value_in_usd", row.event_value_in_usd);
  const device = record(row.device) ?? {};
  const web = record(device.web_info) ?? {};
  c.addText("device.category", device.category);
  c.addText("device.os", device.operating_system);
  c.addText("device.os_version", device.operating_system_version);
  c.addText("device.browser", web.browser ?? device.browser);
  c.addText("device.browser_version", web.browser_version ?? device.browser_version);
  c.addText("device.brand", device.mobile_brand_name);
  c.addText("device.model", device.mobile_model_name);
  const firstUser = record(row.traffic_source) ?? {};
  c.addText("first_user.source", firstUser.source);
  c.addText("first_user.medium", firstUser.medium);
  c.addText("first_user.campaign", firstUser.name);
  for (const [key, v] of params(row.user_properties)) c.add(`user.${key}`, v);
  const out: Fields = {};
  if (Object.keys(c.dimensions).length > 0) out.custom_dimensions = c.dimensions;
  if (Object.keys(c.metrics).length > 0) out.custom_metrics = c.metrics;
  return out;
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

/** ISO 3166-1 alpha-2, every assigned code, plus XK (Kosovo), which GA4 and Cloudflare both use. */
const ISO_CODES =
  "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
  "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
  "GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO " +
  "JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR " +
  "MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO " +
  "RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV " +
  "TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/** Names GA4 has used where CLDR's English name (what Intl.DisplayNames gives) differs. */
const COUNTRY_ALIASES: Record<string, string> = {
  "Hong Kong": "HK",
  Macao: "MO",
  Macau: "MO",
  Palestine: "PS",
  Turkey: "TR",
  "Czech Republic": "CZ",
  Myanmar: "MM",
  Burma: "MM",
  "Ivory Coast": "CI",
  "Democratic Republic of the Congo": "CD",
  "Republic of the Congo": "CG",
  "Cabo Verde": "CV",
  Swaziland: "SZ",
  Macedonia: "MK",
  "East Timor": "TL",
  "Russian Federation": "RU",
  "United States of America": "US",
  Vatican: "VA",
  "The Bahamas": "BS",
  "The Gambia": "GM",
  "The Netherlands": "NL",
};

/** Case, accents, "&"/"and", "St."/"Saint" and punctuation do not matter. */
function normaliseCountry(name: string): string {
  return name
    .normalize("NFD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/&/g, " and ")
    .replace(/\bst\.?\s/g, "saint ")
    .replace(/[’'`]/g, "")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();
}

let countries: Map<string, string> | undefined;

/** GA4 exports English country names; CLDR's names (Intl) plus a few aliases give their codes. */
export function countryCode(name: string): string | undefined {
  if (!countries) {
    countries = new Map();
    const display = new Intl.DisplayNames(["en"], { type: "region" });
    for (const code of ISO_CODES.split(" ")) {
      const english = display.of(code);
      if (english && english !== code) countries.set(normaliseCountry(english), code);
    }
    for (const [alias, code] of Object.entries(COUNTRY_ALIASES)) countries.set(normaliseCountry(alias), code);
  }
  const upper = name.toUpperCase();
  if (upper.length === 2 && ISO_CODES.split(" ").includes(upper)) return upper;
  return countries.get(normaliseCountry(name));
}
