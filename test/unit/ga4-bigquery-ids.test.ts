/**
 * GA4 BigQuery rows carry no event id (scripts/import/ga4-bigquery.ts derives one): the same row
 * gets the same id however the export spelled its numbers, so a re-import never doubles a row.
 */
import { describe, expect, it } from "vitest";
import { mapGa4BigQueryRow } from "../../scripts/import/ga4-bigquery.ts";
import { event, pageView, s } from "./ga4-bigquery-support.ts";

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
