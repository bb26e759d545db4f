/**
 * The GA4 BigQuery mapping (scripts/import/ga4-bigquery.ts) within our bounds: what does not fit is
 * dropped and counted, never truncated, and every mapped line passes the real import judge as it is.
 */
import { describe, expect, it } from "vitest";
import { mapGa4BigQueryRow } from "../../scripts/import/ga4-bigquery.ts";
import { countryCode } from "../../scripts/import/ga4-country.ts";
import { d, event, judged, PURCHASE, pageView, SCROLL, SESSION_START, s } from "./ga4-bigquery-support.ts";

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

describe("the import contract", () => {
  it("accepts every mapped sample line as it is", () => {
    for (const row of [pageView(), PURCHASE, SCROLL, { ...SESSION_START, event_name: "first_scroll" }]) {
      const candidate = judged(event(mapGa4BigQueryRow(row)).line);
      expect(candidate).toMatchObject({ ok: true });
    }
  });
});
