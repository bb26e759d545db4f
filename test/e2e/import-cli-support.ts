/**
 * The files test/e2e/import-cli.test.ts feeds `npm run import`: a generated NDJSON file with bad
 * lines at known places, and a GA4 BigQuery export sample.
 */

const DAY_MS = 86_400_000;
/** Where the history starts: 180 whole days back, inside the 730-day retention whenever the test runs. */
export const HISTORY_START = Math.floor(Date.now() / DAY_MS - 180) * DAY_MS;
/** An instant as ClickHouse prints a DateTime64(3): `2026-06-05 00:10:00.000`. */
export const clickHouseTime = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");

// 300 visitors × 10 events over three weeks from HISTORY_START, and four lines that must fail, at known lines.
export const NDJSON_LINES = 3_000;
export const BAD = new Map<number, [string, string]>([
  [17, ["{not json", "invalid_json"]],
  [
    1_234,
    [JSON.stringify({ client_id: "x", event_type: "pageview", page_url: "ftp://example.com/" }), "invalid_event"],
  ],
  [2_001, [JSON.stringify({ event_type: "pageview", page_url: "https://example.com/" }), "invalid_event"]],
  [
    2_999,
    [
      JSON.stringify({ client_id: "x", event_type: "pageview", page_url: "https://example.com/", pagetitle: "typo" }),
      "invalid_event",
    ],
  ],
]);
/** The NDJSON file: BAD at their lines, an empty line at 100, a valid event on every other. */
export function ndjson(): string {
  const lines: string[] = [];
  for (let n = 1; n <= NDJSON_LINES; n++) {
    const bad = BAD.get(n);
    if (bad) lines.push(bad[0]);
    else if (n === 100) lines.push("");
    else
      lines.push(
        JSON.stringify({
          client_id: `visitor-${n % 300}`,
          event_type: n % 4 === 0 ? "signup" : "pageview",
          page_url: `https://example.com/docs/${n % 37}?utm_source=newsletter`,
          event_timestamp: new Date(HISTORY_START + n * 600_000).toISOString(),
          country: "de",
          city: "Berlin",
          user_agent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
          custom_metrics: { n },
        }),
      );
  }
  return `${lines.join("\n")}\n`;
}
/** Every line but the bad ones and the empty one. */
export const NDJSON_ACCEPTED = NDJSON_LINES - BAD.size - 1;

const param = (key: string, value: string | number) => ({
  key,
  value: typeof value === "string" ? { string_value: value } : { int_value: String(value) },
});
/** The GA4 sample was exported on 2024-03-12; its times move by whole days to 70 days after HISTORY_START. */
const GA4_SHIFT_MS = HISTORY_START + 70 * DAY_MS - Date.UTC(2024, 2, 12);
function ga4Row(name: string, micros: string, params: { key: string; value: object }[], extra: object = {}) {
  return {
    event_date: new Date(Date.UTC(2024, 2, 12) + GA4_SHIFT_MS).toISOString().slice(0, 10).replaceAll("-", ""),
    event_timestamp: String(BigInt(micros) + BigInt(GA4_SHIFT_MS) * 1000n),
    event_name: name,
    event_params: [param("ga_session_id", 1710241200), ...params],
    event_bundle_sequence_id: "77",
    user_pseudo_id: "555.1710000000",
    device: {
      category: "desktop",
      operating_system: "Windows",
      language: "de-de",
      web_info: { browser: "Chrome", browser_version: "122.0", hostname: "example.com" },
    },
    geo: { country: "Germany", region: "Berlin", city: "Berlin", continent: "Europe" },
    traffic_source: { name: "spring", medium: "email", source: "newsletter" },
    platform: "WEB",
    ...extra,
  };
}
/** One GA4 visit: session_start (skipped), a page_view without page_location (refused), items (dropped). */
export const GA4_ROWS = [
  ga4Row("session_start", "1710241234000001", [param("page_location", "https://example.com/")]),
  ga4Row(
    "page_view",
    "1710241234000002",
    [param("page_location", "https://example.com/"), param("page_title", "Home")],
    {
      collected_traffic_source: { manual_source: "newsletter", manual_medium: "email", manual_campaign_name: "spring" },
    },
  ),
  ga4Row("scroll", "1710241260000000", [param("page_location", "https://example.com/"), param("percent_scrolled", 90)]),
  ga4Row("page_view", "1710241300000000", [param("page_location", "https://example.com/pricing")]),
  ga4Row("page_view", "1710241310000000", [param("page_title", "no location")]),
  ga4Row(
    "purchase",
    "1710241400000000",
    [param("page_location", "https://example.com/thanks"), param("currency", "EUR")],
    {
      ecommerce: { purchase_revenue: 49.5, transaction_id: "T-9", total_item_quantity: "1" },
      items: [{ item_id: "SKU-1" }],
    },
  ),
];
