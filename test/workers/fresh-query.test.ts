/**
 * Fresh reports behind the query cache (issue #15): events through the real consumer (actors, then
 * ClickHouse), then /api/v1/query and /api/v1/reports. A range that includes now reflects a batch
 * the moment it is stored, while an identical question with no new data is still a cache hit; old
 * history (an import) reaches ranges that ended long ago at once, and fresh traffic leaves their
 * entries alone.
 *
 * An answer is kept for its TTL only once its data version is SETTLE_MS old (the batch's insert has
 * surely landed); before, for UNSETTLED_TTL_SECONDS. The version's age is the actor's wall clock,
 * so where a test needs a settled version it waits that out instead of racing it.
 */
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { SETTLE_MS } from "../../platform/query-cache.ts";
import type { QueryResponse } from "../../workers/query/run.ts";
import { type CreatedProperty, call, consumeMessage, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const DAY = 86_400_000;
let seq = 0;

const pageview = (p: CreatedProperty, client: string, t: number, extra: Partial<Event> = {}) =>
  makeEvent({
    property_id: p.property_id,
    event_id: `${run}-${++seq}`,
    client_id: `${run}-${client}`,
    event_timestamp: t,
    ...extra,
  });

const consume = (events: Event[]) => consumeMessage(`${run}-m${++seq}`, events);
/** The last batch's version has settled, and what was stored while it settled has expired. */
const settled = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS + 1_500));

async function query(p: CreatedProperty, spec: Record<string, unknown>): Promise<QueryResponse> {
  const res = await call("/api/v1/query", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${p.api_key}` },
    body: JSON.stringify({ property_id: p.property_id, ...spec }),
  });
  if (res.status !== 200) throw new Error(`query failed: ${res.status} ${await res.text()}`);
  return res.json<QueryResponse>();
}

const figures = (r: QueryResponse) => r.results[0]?.metrics;

describe("a range that includes now", () => {
  const today = { metrics: ["visitors", "pageviews"], date_range: "today", timezone: "UTC" };

  it("reflects a new batch at once, and answers an identical question with no new data from the cache", async () => {
    const p = await createProperty({ property_id: `FR-${run}-1` });
    await consume([pageview(p, "ann", Date.now()), pageview(p, "ann", Date.now()), pageview(p, "ben", Date.now())]);
    await settled();
    const first = await query(p, today);
    expect(figures(first)).toEqual([2, 3]);
    const again = await query(p, today);
    expect(again.meta.cached).toBe(true);
    expect(figures(again)).toEqual([2, 3]);

    await consume([pageview(p, "cat", Date.now()), pageview(p, "ann", Date.now())]);
    const fresh = await query(p, today);
    expect(fresh.meta.cached).toBe(false);
    expect(figures(fresh)).toEqual([3, 5]);
    await settled();
    // The answer stored while the batch settled was kept for a second only.
    expect((await query(p, today)).meta.cached).toBe(false);
    const repeated = await query(p, today);
    expect(repeated.meta.cached).toBe(true);
    expect(figures(repeated)).toEqual([3, 5]);
  }, 30_000);

  it("keeps the overview report consistent: fresh after a batch, cached without one", async () => {
    const p = await createProperty({ property_id: `FR-${run}-2` });
    const overview = async () => {
      const res = await call(
        `/api/v1/reports?property=${p.property_id}&report=overview&date_range=today&timezone=UTC`,
        {
          headers: { Authorization: `Bearer ${p.api_key}` },
        },
      );
      expect(res.status).toBe(200);
      return res.json<{ pageviews: number; visitors: number; meta: { cached: boolean } }>();
    };
    await consume([pageview(p, "ann", Date.now())]);
    await settled();
    expect((await overview()).pageviews).toBe(1);
    expect((await overview()).meta.cached).toBe(true);
    await consume([pageview(p, "ben", Date.now(), { page_path: "/b" })]);
    const fresh = await overview();
    expect(fresh).toMatchObject({ pageviews: 2, visitors: 2, meta: { cached: false } });
    await settled();
    await overview();
    expect(await overview()).toMatchObject({ pageviews: 2, visitors: 2, meta: { cached: true } });
  }, 30_000);
});

describe("a range that ended days ago", () => {
  const start = Math.floor(Date.now() / DAY) * DAY - 5 * DAY;
  const days = [new Date(start).toISOString().slice(0, 10), new Date(start + 2 * DAY).toISOString().slice(0, 10)];
  const spec = { metrics: ["visitors", "pageviews"], date_range: days, timezone: "UTC" };

  it("reflects imported history at once, and stays cached while only fresh traffic arrives", async () => {
    const p = await createProperty({ property_id: `FR-${run}-3` });
    await consume([pageview(p, "old-1", start + 3_600_000)]);
    await settled();
    expect(figures(await query(p, spec))).toEqual([1, 1]);
    expect((await query(p, spec)).meta.cached).toBe(true);

    // What an import of old history delivers: events days old, through the same consumer.
    await consume([pageview(p, "old-2", start + DAY), pageview(p, "old-1", start + DAY + 60_000)]);
    const imported = await query(p, spec);
    expect(imported.meta.cached).toBe(false);
    expect(figures(imported)).toEqual([2, 3]);
    await settled();
    expect(figures(await query(p, spec))).toEqual([2, 3]);

    // Today's traffic cannot change that range: its entry is still the answer.
    await consume([pageview(p, "now", Date.now())]);
    const after = await query(p, spec);
    expect(after.meta.cached).toBe(true);
    expect(figures(after)).toEqual([2, 3]);
  }, 30_000);
});
