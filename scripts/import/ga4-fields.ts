/**
 * What a GA4 export row carries beyond the event itself, for the mapping in ga4-bigquery.ts: our
 * optional fields (user, title, referrer, language, screen, geography), then custom dimensions and
 * metrics from the event's params, its ecommerce totals and its context. What does not fit is
 * dropped and counted, never truncated.
 */
import { CUSTOM_KEY_PATTERN, DIMENSIONS_PATTERN, LANGUAGE_PATTERN, MAX_CUSTOM_ENTRIES } from "../../core/event.ts";
import { countryCode } from "./ga4-country.ts";
import {
  type Drop,
  type Ga4Drop,
  httpUrl,
  type ImportLineInput,
  type Json,
  NOT_SET,
  numeric,
  params,
  plain,
  record,
  text,
  type Value,
} from "./ga4-row.ts";

/** Params that become our own fields, or GA4 plumbing with no meaning once imported. */
const FIELD_PARAMS = new Set(["page_location", "page_referrer", "page_title", "screen_resolution", "language"]);
const PLUMBING_PARAMS = new Set(["ignore_referrer", "debug_mode", "batch_page_id", "batch_ordering_id"]);
/** Integer params that identify rather than measure: kept as dimensions, digit for digit. */
const ID_PARAMS = new Set(["ga_session_id", "ga_session_number"]);
const MAX_DIMENSION = 512;

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

/** The fields a row may add to the event it maps to. */
export type Fields = Omit<ImportLineInput, "event_id" | "client_id" | "event_type" | "event_timestamp" | "page_url">;

/** Keeps a value when it passes `check`; counts it as dropped when it was there and does not. */
function fitting(raw: string | undefined, check: (v: string) => string | undefined, reason: Ga4Drop, drop: Drop) {
  const v = raw === undefined || raw === "" ? undefined : check(raw);
  if (v === undefined && raw !== undefined && raw !== "") drop(reason);
  return v;
}

/** The optional fields of our contract: user, title, referrer, language, screen, geography. */
export function fields(row: Json, p: Map<string, Value>, drop: Drop): Fields {
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
export function customs(row: Json, p: Map<string, Value>, drop: Drop): Fields {
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
