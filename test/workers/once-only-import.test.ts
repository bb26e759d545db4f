/**
 * Once-only through the import path (#15), in workerd against the real engine: NDJSON posted to
 * /api/v1/import, its queued messages consumed by the real consumer, then the same file again (new
 * messages, new insert tokens). Every table and report must be as after the first import — also
 * for a visitor with far more events than the session actors remember (32 ids).
 */
import { expect, it } from "vitest";
import { createProperty } from "./helpers.ts";
import { figures, importAndConsume } from "./once-only-support.ts";

const run = crypto.randomUUID().slice(0, 8);
/** Ten days ago, 06:00 UTC: inside the hot retention, the visits long closed. */
const base = Math.floor(Date.now() / 86_400_000 - 10) * 86_400_000 + 6 * 3_600_000;
const DAY = new Date(base).toISOString().slice(0, 10);
const NEXT_DAY = new Date(base + 86_400_000).toISOString().slice(0, 10);

const line = (id: string, client: string, at: number, path: string, type = "pageview") =>
  JSON.stringify({
    event_id: id,
    client_id: client,
    event_type: type,
    page_url: `https://example.com${path}`,
    event_timestamp: new Date(at).toISOString(),
  });

/**
 * 10,000 events: 160 visitors with three visits of twenty events each (60 events: more than the
 * actors remember of a visitor), and 400 one-page visits (bounces).
 */
function siteHistory(): string[] {
  const lines: string[] = [];
  for (let v = 0; v < 160; v++)
    for (let r = 0; r < 60; r++) {
      const at = base + v * 7_000 + (r % 20) * 60_000 + Math.floor(r / 20) * 3 * 3_600_000;
      lines.push(line(`s-${v}-${r}`, `v${v}`, at, `/p/${r % 7}`, r % 20 === 5 ? "signup" : "pageview"));
    }
  for (let b = 0; b < 400; b++) lines.push(line(`b-${b}`, `b${b}`, base + b * 11_000, `/landing/${b % 5}`));
  return lines;
}

/** One visitor, 1,000 events a minute apart, a 40-minute pause every 100: ten visits. */
function heavyVisitor(): string[] {
  return Array.from({ length: 1_000 }, (_, i) =>
    line(`h-${i}`, "heavy", base + i * 60_000 + Math.floor(i / 100) * 40 * 60_000, `/doc/${i % 13}`),
  );
}

it("the same 10,000-event NDJSON imported twice gives the reports of one import", async () => {
  const p = await createProperty({ property_id: `OI-${run}` });
  const lines = siteHistory();
  expect(lines).toHaveLength(10_000);
  expect(await importAndConsume(p.property_id, lines)).toBe(10_000);
  const once = await figures(p.property_id, DAY, DAY);
  expect(once.events).toEqual([{ n: 10_000, ids: 10_000, visitors: 560, pageviews: 9_520 }]);
  expect(once.session_log).toMatchObject([{ visits: 880, bounces: 400 }]);
  expect(await importAndConsume(p.property_id, lines)).toBe(10_000);
  expect(await figures(p.property_id, DAY, DAY)).toEqual(once);
}, 180_000);

it("one visitor with 1,000 events imported twice: 1,000 rows, the same ten visits", async () => {
  const p = await createProperty({ property_id: `OH-${run}` });
  const lines = heavyVisitor();
  await importAndConsume(p.property_id, lines);
  const once = await figures(p.property_id, DAY, NEXT_DAY);
  expect(once.events).toEqual([{ n: 1_000, ids: 1_000, visitors: 1, pageviews: 1_000 }]);
  expect(once.sessions).toMatchObject([{ visits: 10, pageviews: 1_000 }]);
  await importAndConsume(p.property_id, lines);
  const twice = await figures(p.property_id, DAY, NEXT_DAY);
  expect(twice.events).toEqual(once.events);
  expect(twice.sessions).toEqual(once.sessions);
  expect(twice).toEqual(once);
}, 120_000);

it("lines without an event_id imported twice: each stored once (ids derived from the line)", async () => {
  const p = await createProperty({ property_id: `ON-${run}` });
  const lines = Array.from({ length: 200 }, (_, i) => {
    const { event_id: _id, ...rest } = JSON.parse(line(`n-${i}`, `n${i % 40}`, base + i * 45_000, `/n/${i % 3}`));
    return JSON.stringify(rest);
  });
  expect(await importAndConsume(p.property_id, lines)).toBe(200);
  const once = await figures(p.property_id, DAY, DAY);
  expect(once.events).toMatchObject([{ n: 200, ids: 200 }]);
  expect(await importAndConsume(p.property_id, lines)).toBe(200);
  expect(await figures(p.property_id, DAY, DAY)).toEqual(once);
}, 120_000);
