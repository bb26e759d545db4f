/**
 * GA4 BigQuery export rows → import lines (scripts/import/ga4-bigquery.ts): realistic rows as
 * BigQuery's JSON export writes them (INT64 as strings, absent or null values), mapped field for
 * field. Our bounds and the import judge: ga4-bigquery-bounds.test.ts; ids: ga4-bigquery-ids.test.ts.
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_GA4_SKIP, ga4EventId, mapGa4BigQueryRow } from "../../scripts/import/ga4-bigquery.ts";
import { DESKTOP_DIMS, event, i, PURCHASE, pageView, SCROLL, SESSION_START, s } from "./ga4-bigquery-support.ts";

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
