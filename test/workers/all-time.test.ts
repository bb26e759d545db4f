/**
 * "All time" starts where the property's data starts (issue #16): history imported from before the
 * property was created moves that start back — never forward — so the dashboard's "All time" and
 * the query API's `all` include it.
 */
import { describe, expect, it } from "vitest";
import { ADMIN, call, createProperty } from "./helpers.ts";

const DAY = 86_400_000;
const dayStart = (ms: number) => new Date(Math.floor(ms / DAY) * DAY).toISOString();

function importAt(propertyId: string, key: string, times: number[]) {
  const body = times
    .map((t, i) =>
      JSON.stringify({
        client_id: `h${i}`,
        event_type: "pageview",
        page_url: "https://example.com/",
        event_timestamp: t,
      }),
    )
    .join("\n");
  return call(`/api/v1/import?property=${propertyId}`, {
    method: "POST",
    body,
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/x-ndjson" },
  });
}

async function allTimeFrom(propertyId: string, key: string): Promise<string> {
  const q = encodeURIComponent(JSON.stringify({ property_id: propertyId, metrics: ["visitors"], date_range: "all" }));
  const res = await call(`/api/v1/query?q=${q}`, { headers: { Authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  const body = await res.json<{ query: { date_range: [string, string] } }>();
  return body.query.date_range[0];
}

describe('date_range "all"', () => {
  it("starts at the property's creation until older history is imported, then at that history", async () => {
    const p = await createProperty({ property_id: `AT-${crypto.randomUUID().slice(0, 8)}` });
    const created = dayStart(Date.now());
    expect(await allTimeFrom(p.property_id, p.api_key)).toBe(created);

    const old = Date.now() - 400 * DAY;
    expect((await importAt(p.property_id, p.api_key, [Date.now() - 3 * DAY, old])).status).toBe(200);
    expect(await allTimeFrom(p.property_id, p.api_key)).toBe(dayStart(old));

    // Newer history never moves it forward again.
    expect((await importAt(p.property_id, p.api_key, [Date.now() - 10 * DAY])).status).toBe(200);
    expect(await allTimeFrom(p.property_id, p.api_key)).toBe(dayStart(old));

    const config = await call(`/api/v1/properties/${p.property_id}`, { headers: ADMIN });
    expect((await config.json<{ history_from?: number }>()).history_from).toBe(old);
  });
});
