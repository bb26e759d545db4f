/**
 * Revenue through the whole Worker (issue #15): a property created with a currency, events through
 * the real consumer, then /api/v1/query answering in that currency with the others named in meta,
 * a per-query currency, a currency patch, and the 400s that name the field.
 */
import { beforeAll, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import type { QueryResponse } from "../../workers/query/run.ts";
import { ADMIN, type CreatedProperty, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const HOUR = 3_600_000;
const base = Math.floor(Date.now() / (24 * HOUR)) * 24 * HOUR - 14 * HOUR;
const day = new Date(base).toISOString().slice(0, 10);
let p: CreatedProperty;

const sale = (id: string, client: string, revenue: number, currency?: string): Event =>
  makeEvent({
    property_id: p.property_id,
    event_id: `${run}-${id}`,
    client_id: `${run}-${client}`,
    event_timestamp: base + Number(id) * 60_000,
    event_type: "purchase",
    custom_metrics: { revenue },
    ...(currency ? { custom_dimensions: { currency } } : {}),
  });

function query(spec: Record<string, unknown>) {
  return call("/api/v1/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${p.api_key}`, "Cache-Control": "no-cache" },
    body: JSON.stringify({ property_id: p.property_id, date_range: [day, day], timezone: "UTC", ...spec }),
  });
}

beforeAll(async () => {
  p = await createProperty({ property_id: `QR-${run}`, currency: "EUR" });
  // EUR: 12.5 + 7.5 (untagged: the property's) ; USD 40 ; GBP 5.
  await consumeMessage(`${run}-m1`, [
    sale("1", "a", 12.5, "EUR"),
    sale("2", "b", 7.5),
    sale("3", "c", 40, "USD"),
    sale("4", "c", 5, "GBP"),
  ]);
});

it("sums the property's currency and names the others in meta", async () => {
  const res = await query({ metrics: ["total_revenue", "average_revenue"] });
  expect(res.status).toBe(200);
  const body = await res.json<QueryResponse>();
  expect(body.results).toEqual([{ dimensions: [], metrics: [20, 10] }]);
  expect(body.meta).toMatchObject({ currency: "EUR", other_currencies: ["GBP", "USD"] });
  expect(body.query.include).toMatchObject({ currency: "EUR" });
});

it("sums the currency a query names, and follows a change of the property's", async () => {
  const usd = await (await query({ metrics: ["total_revenue"], include: { currency: "USD" } })).json<QueryResponse>();
  expect(usd.results[0]?.metrics).toEqual([40]);
  expect(usd.meta.other_currencies).toEqual(["EUR", "GBP"]);
  const patched = await call(`/api/v1/properties/${p.property_id}`, {
    method: "PATCH",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ currency: "GBP" }),
  });
  expect(patched.status).toBe(200);
  expect((await patched.json<{ currency: string }>()).currency).toBe("GBP");
  // Untagged revenue is now the property's GBP: 7.5 + 5.
  const gbp = await (await query({ metrics: ["total_revenue"] })).json<QueryResponse>();
  expect(gbp.meta.currency).toBe("GBP");
  expect(gbp.results[0]?.metrics).toEqual([12.5]);
});

it("400s name the field: a bad currency, a metric without what it needs", async () => {
  const currency = await query({ metrics: ["total_revenue"], include: { currency: "euro" } });
  expect(currency.status).toBe(400);
  expect((await envelope(currency)).error.message).toContain("include.currency");
  const scroll = await query({ metrics: ["scroll_depth"] });
  expect(scroll.status).toBe(400);
  expect((await envelope(scroll)).error.message).toMatch(/^metrics: scroll_depth is measured per page/);
  const created = await call("/api/v1/properties", {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "S", domains: ["example.com"], currency: "Euro" }),
  });
  expect(created.status).toBe(400);
  expect((await envelope(created)).error.message).toContain("currency");
});
