/**
 * GA4 BigQuery export rows as BigQuery's JSON export writes them (INT64 as strings, absent or null
 * values), and the helpers the ga4-bigquery*.test.ts files share to map and judge them.
 */
import { judgeImportLine } from "../../core/ingest/import-line.ts";
import type { Ga4RowResult } from "../../scripts/import/ga4-bigquery.ts";
import type { ImportLineInput } from "../../scripts/import/ga4-row.ts";

/** Event params and user properties as the export writes them: string, int and double values. */
type Param = { key: string; value: Record<string, string | number | null> };
export const s = (key: string, v: string): Param => ({ key, value: { string_value: v } });
export const i = (key: string, v: string | number): Param => ({ key, value: { int_value: v } });
export const d = (key: string, v: number): Param => ({ key, value: { double_value: v } });

const DESKTOP = {
  category: "desktop",
  mobile_brand_name: "Apple",
  mobile_model_name: "Safari",
  operating_system: "Macintosh",
  operating_system_version: "Macintosh Intel 10.15",
  language: "en-us",
  is_limited_ad_tracking: "No",
  web_info: { browser: "Safari", browser_version: "17.3", hostname: "www.acme.com" },
};
/** DESKTOP as the mapping's device.* dimensions. */
export const DESKTOP_DIMS = {
  "device.category": "desktop",
  "device.os": "Macintosh",
  "device.os_version": "Macintosh Intel 10.15",
  "device.browser": "Safari",
  "device.browser_version": "17.3",
  "device.brand": "Apple",
  "device.model": "Safari",
};

/** A page_view as the export writes it: an organic visitor from Munich. */
export function pageView(overrides: Record<string, unknown> = {}) {
  return {
    event_date: "20240312",
    event_timestamp: "1710241234567890",
    event_name: "page_view",
    event_params: [
      i("ga_session_number", "3"),
      s("page_title", "Pricing – Acme"),
      i("engaged_session_event", "1"),
      s("page_location", "https://www.acme.com/pricing?plan=pro"),
      i("ga_session_id", "1710241200"),
      s("page_referrer", "https://www.google.com/"),
      s("session_engaged", "1"),
      i("batch_page_id", "1710241234000"),
      i("batch_ordering_id", "2"),
    ],
    event_previous_timestamp: "1710241100000000",
    event_bundle_sequence_id: "1234567",
    event_server_timestamp_offset: "581",
    user_pseudo_id: "1234567890.1710000000",
    privacy_info: { analytics_storage: "Yes", ads_storage: "Yes", uses_transient_token: "No" },
    user_properties: [],
    user_first_touch_timestamp: "1710000000123456",
    device: DESKTOP,
    geo: {
      city: "Munich",
      country: "Germany",
      continent: "Europe",
      region: "Bavaria",
      sub_continent: "Western Europe",
      metro: "(not set)",
    },
    app_info: null,
    traffic_source: { name: "(organic)", medium: "organic", source: "google" },
    stream_id: "3456789012",
    platform: "WEB",
    event_dimensions: null,
    ecommerce: null,
    items: [],
    collected_traffic_source: null,
    is_active_user: true,
    batch_event_index: "0",
    batch_page_id: "1710241234000",
    batch_ordering_id: "2",
    ...overrides,
  };
}

/** A purchase on an iPhone in San Francisco: event params, ecommerce totals and items. */
export const PURCHASE = {
  event_date: "20240312",
  event_timestamp: 1710244800123456,
  event_name: "purchase",
  event_params: [
    s("page_location", "https://shop.acme.com/checkout/thanks"),
    s("page_title", "Thank you"),
    s("transaction_id", "T-1001"),
    s("currency", "EUR"),
    d("value", 59.98),
    d("tax", 9.58),
    d("shipping", 4.9),
    s("coupon", "SPRING"),
    i("ga_session_id", 1710244700),
    i("engagement_time_msec", "5213"),
    { key: "debug_mode", value: { string_value: null, int_value: "1", float_value: null, double_value: null } },
  ],
  event_bundle_sequence_id: "88",
  user_id: "customer-42",
  user_pseudo_id: "987654321.1700000000",
  user_properties: [
    { key: "plan", value: { string_value: "pro", set_timestamp_micros: "1700000000000000" } },
    { key: "lifetime_orders", value: { int_value: "7", set_timestamp_micros: "1700000000000000" } },
  ],
  device: {
    category: "mobile",
    mobile_brand_name: "Apple",
    mobile_model_name: "iPhone",
    operating_system: "iOS",
    operating_system_version: "iOS 17.3.1",
    language: "en-us",
    web_info: { browser: "Safari", browser_version: "17.3", hostname: "shop.acme.com" },
  },
  geo: { city: "San Francisco", country: "United States", continent: "Americas", region: "California" },
  traffic_source: { name: "spring_sale", medium: "email", source: "newsletter" },
  platform: "WEB",
  ecommerce: {
    total_item_quantity: "2",
    purchase_revenue_in_usd: 65.12,
    purchase_revenue: 59.98,
    refund_value_in_usd: null,
    refund_value: null,
    shipping_value_in_usd: 5.32,
    shipping_value: 4.9,
    tax_value_in_usd: 10.4,
    tax_value: 9.58,
    unique_items: "1",
    transaction_id: "T-1001",
  },
  items: [{ item_id: "SKU-1", item_name: "Widget", price: 22.75, quantity: "2", item_revenue: 45.5 }],
  collected_traffic_source: null,
  batch_event_index: "3",
};

/** A scroll on the page_view's page, GA4's "(not set)" for the city and region. */
export const SCROLL = {
  event_date: "20240312",
  event_timestamp: "1710241290000001",
  event_name: "scroll",
  event_params: [
    i("percent_scrolled", "90"),
    s("page_location", "https://www.acme.com/pricing?plan=pro"),
    s("page_title", "Pricing – Acme"),
    i("ga_session_id", "1710241200"),
    i("engagement_time_msec", "14021"),
  ],
  event_bundle_sequence_id: "1234568",
  user_pseudo_id: "1234567890.1710000000",
  device: DESKTOP,
  geo: { city: "(not set)", country: "Germany", continent: "Europe", region: "(not set)" },
  traffic_source: { name: "(organic)", medium: "organic", source: "google" },
  platform: "WEB",
};

/** GA4's session bookkeeping for the page_view's visit: skipped by default. */
export const SESSION_START = {
  event_date: "20240312",
  event_timestamp: "1710241234567890",
  event_name: "session_start",
  event_params: [
    s("page_location", "https://www.acme.com/pricing?plan=pro"),
    i("ga_session_id", "1710241200"),
    i("ga_session_number", "3"),
  ],
  event_bundle_sequence_id: "1234567",
  user_pseudo_id: "1234567890.1710000000",
  device: DESKTOP,
  geo: { country: "Germany" },
  platform: "WEB",
  batch_event_index: "1",
};

/** The mapped event, or a test failure naming what came instead. */
export function event(result: Ga4RowResult): { line: ImportLineInput; dropped: Record<string, number> } {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

/** The real judge of an import line: what the mapping emits must pass it unchanged. */
export function judged(line: ImportLineInput) {
  const judgedLine = judgeImportLine(JSON.parse(JSON.stringify(line)), 0, 1, "UA-GA4-1", {
    nowMs: Date.UTC(2026, 0, 1),
    newId: () => "unused",
    enforceWindow: false,
    bodyBytes: 0,
  });
  return judgedLine.candidate;
}
