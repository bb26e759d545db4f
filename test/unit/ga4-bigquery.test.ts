/**
 * GA4 BigQuery export rows → import lines (scripts/import/ga4-bigquery.ts): realistic rows as
 * BigQuery's JSON export writes them (INT64 as strings, absent or null values), mapped field for
 * field; our bounds; deterministic ids; and every mapped line accepted by the real import judge.
 */
import { describe, expect, it } from "vitest";
import { judgeImportLine } from "../../core/ingest/import-line.ts";
import {
  countryCode,
  DEFAULT_GA4_SKIP,
  type Ga4RowResult,
  ga4EventId,
  type ImportLineInput,
  mapGa4BigQueryRow,
} from "../../scripts/import/ga4-bigquery.ts";

type Param = { key: string; value: Record<string, string | number | null> };
const s = (key: string, v: string): Param => ({ key, value: { string_value: v } });
const i = (key: string, v: string | number): Param => ({ key, value: { int_value: v } });
const d = (key: string, v: number): Param => ({ key, value: { double_value: v } });

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
const DESKTOP_DIMS = {
  "device.category": "desktop",
  "device.os": "Macintosh",
  "device.os_version": "Macintosh Intel 10.15",
  "device.browser": "Safari",
  "device.browser_version": "17.3",
  "device.brand": "Apple",
  "device.model": "Safari",
};

/** A page_view as the export writes it: an organic visitor from Munich. */
function pageView(overrides: Record<string, unknown> = {}) {
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
const PURCHASE = {
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

const SCROLL = {
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

const SESSION_START = {
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

function event(result: Ga4RowResult): { line: ImportLineInput; dropped: Record<string, number> } {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

/** The real judge of an import line: what the mapping emits must pass it unchanged. */
function judged(line: ImportLineInput) {
  const judgedLine = judgeImportLine(JSON.parse(JSON.stringify(line)), 0, 1, "UA-GA4-1", {
    nowMs: Date.UTC(2026, 0, 1),
    newId: () => "unused",
    enforceWindow: false,
    bodyBytes: 0,
  });
  return judgedLine.candidate;
}

describe("mapping GA4 BigQuery export rows", () => {
  it("maps a page_view: timestamp to ms, params to fields, device and first-user source to dimensions, country to ISO", () => {
    const { line, dropped } = event(mapGa4BigQueryRow(pageView()));
    expect(line).toEqual({
      event_id: ga4EventId(pageView(), "1710241234567890"),
      client_id: "1234567890.1710000000",
      event_type: "pageview",
      event_timestamp: 1710241234567,
      page_url: "https://www.acme.com/pricing?plan=pro",
      page_title: "Pricing – Acme",
      referrer: "https://www.google.com/",
      language: "en-us",
      country: "DE",
      region: "Bavaria",
      city: "Munich",
      custom_dimensions: {
        ga_session_number: "3",
        ga_session_id: "1710241200",
        session_engaged: "1",
        ...DESKTOP_DIMS,
        "first_user.source": "google",
        "first_user.medium": "organic",
        "first_user.campaign": "(organic)",
      },
      custom_metrics: { engaged_session_event: 1 },
    });
    expect(line.event_id).toMatch(/^ga4-[0-9a-f]{32}$/);
    expect(dropped).toEqual({});
  });

  it("maps a purchase: ecommerce totals to metrics, transaction and currency to dimensions, user properties prefixed, items counted as dropped", () => {
    const { line, dropped } = event(mapGa4BigQueryRow(PURCHASE));
    expect(line).toEqual({
      event_id: ga4EventId(PURCHASE, "1710244800123456"),
      client_id: "987654321.1700000000",
      user_id: "customer-42",
      event_type: "purchase",
      event_timestamp: 1710244800123,
      page_url: "https://shop.acme.com/checkout/thanks",
      page_title: "Thank you",
      language: "en-us",
      country: "US",
      region: "California",
      city: "San Francisco",
      custom_dimensions: {
        transaction_id: "T-1001",
        currency: "EUR",
        coupon: "SPRING",
        ga_session_id: "1710244700",
        "device.category": "mobile",
        "device.os": "iOS",
        "device.os_version": "iOS 17.3.1",
        "device.browser": "Safari",
        "device.browser_version": "17.3",
        "device.brand": "Apple",
        "device.model": "iPhone",
        "first_user.source": "newsletter",
        "first_user.medium": "email",
        "first_user.campaign": "spring_sale",
        "user.plan": "pro",
      },
      custom_metrics: {
        value: 59.98,
        tax: 9.58,
        shipping: 4.9,
        engagement_time_msec: 5213,
        revenue: 59.98,
        revenue_in_usd: 65.12,
        shipping_value: 4.9,
        tax_value: 9.58,
        total_item_quantity: 2,
        unique_items: 1,
        "user.lifetime_orders": 7,
      },
    });
    expect(dropped).toEqual({ items: 1 });
  });

  it("maps a scroll: its own name, percent_scrolled as a metric, (not set) geography left out", () => {
    const { line } = event(mapGa4BigQueryRow(SCROLL));
    expect(line).toEqual({
      event_id: ga4EventId(SCROLL, "1710241290000001"),
      client_id: "1234567890.1710000000",
      event_type: "scroll",
      event_timestamp: 1710241290000,
      page_url: "https://www.acme.com/pricing?plan=pro",
      page_title: "Pricing – Acme",
      language: "en-us",
      country: "DE",
      custom_dimensions: {
        ga_session_id: "1710241200",
        ...DESKTOP_DIMS,
        "first_user.source": "google",
        "first_user.medium": "organic",
        "first_user.campaign": "(organic)",
      },
      custom_metrics: { percent_scrolled: 90, engagement_time_msec: 14021 },
    });
  });

  it("skips session_start and first_visit by default, and maps them when the skip list is empty", () => {
    expect(DEFAULT_GA4_SKIP).toEqual(["session_start", "first_visit"]);
    expect(mapGa4BigQueryRow(SESSION_START)).toEqual({ kind: "skipped", event_name: "session_start" });
    const { line } = event(mapGa4BigQueryRow(SESSION_START, new Set()));
    expect(line).toEqual({
      event_id: ga4EventId(SESSION_START, "1710241234567890"),
      client_id: "1234567890.1710000000",
      event_type: "session_start",
      event_timestamp: 1710241234567,
      page_url: "https://www.acme.com/pricing?plan=pro",
      language: "en-us",
      country: "DE",
      custom_dimensions: { ga_session_id: "1710241200", ga_session_number: "3", ...DESKTOP_DIMS },
    });
    // Same visitor, instant and bundle as the page_view, but another name and batch index: another id.
    expect(line.event_id).not.toBe(ga4EventId(pageView(), "1710241234567890"));
  });

  it("appends the collected campaign as utm_* and gclid when the landing URL lacks it, keeping the rest of the URL as it was", () => {
    const collected = {
      manual_source: "newsletter",
      manual_medium: "email",
      manual_campaign_name: "spring sale",
      manual_term: null,
      manual_content: "(not set)",
      gclid: "Cj0KCQ",
    };
    const url = (location: string) => {
      const params = [s("page_location", location)];
      return event(mapGa4BigQueryRow(pageView({ event_params: params, collected_traffic_source: collected }))).line
        .page_url;
    };
    expect(url("https://www.acme.com/a?x=1%202#top")).toBe(
      "https://www.acme.com/a?x=1%202&utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&gclid=Cj0KCQ#top",
    );
    expect(url("https://www.acme.com/a")).toBe(
      "https://www.acme.com/a?utm_source=newsletter&utm_medium=email&utm_campaign=spring%20sale&gclid=Cj0KCQ",
    );
    // GA4 read it from the URL itself: nothing is added twice.
    expect(url("https://www.acme.com/a?utm_source=nl&gclid=abc")).toBe(
      "https://www.acme.com/a?utm_source=nl&gclid=abc",
    );
  });

  it("drops the referrer GA4 marked ignore_referrer, and counts a referrer that is not http(s)", () => {
    const row = (ref: string, ignore?: string) =>
      pageView({
        event_params: [
          s("page_location", "https://www.acme.com/"),
          s("page_referrer", ref),
          ...(ignore ? [s("ignore_referrer", ignore)] : []),
        ],
      });
    expect(event(mapGa4BigQueryRow(row("https://www.acme.com/cart", "true"))).line.referrer).toBeUndefined();
    const app = event(mapGa4BigQueryRow(row("android-app://com.google.android.gm/")));
    expect(app.line.referrer).toBeUndefined();
    expect(app.dropped).toEqual({ referrer: 1 });
  });

  it("lets a non-page_view event without page_location stand on the stream's hostname", () => {
    const row = { ...SCROLL, event_name: "user_engagement", event_params: [i("engagement_time_msec", "3000")] };
    expect(event(mapGa4BigQueryRow(row)).line.page_url).toBe("https://www.acme.com/");
  });

  it("rejects, with a reason, the rows that cannot become an event", () => {
    const reject = (row: unknown) => {
      const result = mapGa4BigQueryRow(row);
      return result.kind === "rejected" ? result.reason : `not rejected: ${JSON.stringify(result)}`;
    };
    expect(reject([1, 2])).toBe("must be a JSON object (one row of an events_* table)");
    expect(reject(pageView({ event_params: [s("page_title", "x")] }))).toBe("page_view: no page_location param");
    expect(reject(pageView({ event_params: [s("page_location", "app://home")] }))).toBe(
      "page_view: page_location is not an absolute http(s) URL of at most 2048 characters",
    );
    expect(reject(pageView({ user_pseudo_id: null }))).toBe(
      "user_pseudo_id: missing (consent-mode cookieless pings have none)",
    );
    expect(reject(pageView({ event_timestamp: "yesterday" }))).toBe(
      "event_timestamp: must be microseconds since the epoch, 2000 to 2100",
    );
    expect(reject(pageView({ event_timestamp: "1710241234" }))).toBe(
      "event_timestamp: must be microseconds since the epoch, 2000 to 2100",
    );
    expect(reject(pageView({ event_name: "" }))).toBe("event_name: missing, or not 1-120 characters of text");
    expect(reject({ ...SCROLL, event_params: [], device: {} })).toBe(
      "no usable page_location param and no device.web_info.hostname to stand in",
    );
  });
});

describe("bounds", () => {
  it("keeps at most 50 custom dimensions and 50 metrics, dropping and counting the rest, bad names and long values", () => {
    const params = [
      s("page_location", "https://www.acme.com/"),
      ...Array.from({ length: 60 }, (_, n) => s(`dim_${n}`, `v${n}`)),
      ...Array.from({ length: 55 }, (_, n) => d(`metric_${n}`, n)),
      s("bad key!", "x"),
      s("long", "x".repeat(513)),
      s("control", "a\nb"),
    ];
    const { line, dropped } = event(
      mapGa4BigQueryRow(pageView({ event_params: params, device: {}, traffic_source: null })),
    );
    expect(Object.keys(line.custom_dimensions ?? {})).toEqual(Array.from({ length: 50 }, (_, n) => `dim_${n}`));
    expect(Object.keys(line.custom_metrics ?? {})).toHaveLength(50);
    expect(dropped).toEqual({ dimension_limit: 10, metric_limit: 5, key: 1, text_value: 2 });
    expect(judged(line).ok).toBe(true);
  });

  it("drops what does not fit a field instead of failing the row: long titles, unknown countries, bad language tags", () => {
    const { line, dropped } = event(
      mapGa4BigQueryRow(
        pageView({
          event_params: [s("page_location", "https://www.acme.com/"), s("page_title", "t".repeat(600))],
          geo: { country: "Atlantis", region: "r".repeat(200), city: "Zürich" },
          device: { language: "not a tag" },
          user_id: "u".repeat(300),
        }),
      ),
    );
    expect(line).toMatchObject({ city: "Zürich" });
    expect(line).not.toHaveProperty("page_title");
    expect(line).not.toHaveProperty("country");
    expect(line).not.toHaveProperty("region");
    expect(line).not.toHaveProperty("language");
    expect(line).not.toHaveProperty("user_id");
    expect(dropped).toEqual({ text_value: 3, country: 1, language: 1 });
  });

  it("names the common GA4 country spellings by their ISO codes", () => {
    const names = {
      "United States": "US",
      "United Kingdom": "GB",
      Germany: "DE",
      India: "IN",
      Türkiye: "TR",
      Turkey: "TR",
      "Hong Kong": "HK",
      Czechia: "CZ",
      "South Korea": "KR",
      "Côte d’Ivoire": "CI",
      "Bosnia & Herzegovina": "BA",
      "Myanmar (Burma)": "MM",
      "St. Lucia": "LC",
      Kosovo: "XK",
      Netherlands: "NL",
    };
    for (const [name, code] of Object.entries(names)) expect([name, countryCode(name)]).toEqual([name, code]);
    expect(countryCode("Atlantis")).toBeUndefined();
  });
});

describe("event ids", () => {
  it("are the same for the same row however the export spelled its numbers, and differ when any discriminator does", () => {
    const id = (row: Record<string, unknown>) => event(mapGa4BigQueryRow(row)).line.event_id;
    const base = id(pageView());
    expect(id(pageView())).toBe(base);
    expect(
      id(pageView({ event_timestamp: 1710241234567890, event_bundle_sequence_id: 1234567, batch_event_index: 0 })),
    ).toBe(base);
    // Params, geography and device do not take part: a re-export with enriched columns keeps its ids.
    expect(id(pageView({ geo: null, event_params: [s("page_location", "https://www.acme.com/")] }))).toBe(base);
    const variants = [
      { event_timestamp: "1710241234567891" },
      { user_pseudo_id: "other.1" },
      { event_bundle_sequence_id: "1234568" },
      { batch_event_index: "1" },
      { batch_page_id: "1" },
      { batch_ordering_id: "3" },
    ];
    const ids = variants.map((v) => id(pageView(v)));
    expect(new Set([base, ...ids]).size).toBe(variants.length + 1);
  });
});

describe("the import contract", () => {
  it("accepts every mapped sample line as it is", () => {
    for (const row of [pageView(), PURCHASE, SCROLL, { ...SESSION_START, event_name: "first_scroll" }]) {
      const candidate = judged(event(mapGa4BigQueryRow(row)).line);
      expect(candidate).toMatchObject({ ok: true });
    }
  });
});
