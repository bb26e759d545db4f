/**
 * A property whose every event is known, for the dashboard's revenue, engagement and visitor-type
 * figures (metrics.test.ts), sent through `/collect` as a browser would (a browser user agent: Node's
 * own would be filtered as a bot). Three visitors, four visits, all a day or two old:
 *
 * - A, visit 1 (new): views /pricing (engaged 60 s, scrolled 50%), then /checkout, buys for €100.
 * - A, visit 2 (returning, a day later): views /checkout, buys for €50.
 * - B (new): views /pricing (engaged 96 s, scrolled 70%), signs up there.
 * - C (new): views /pricing (engaged 60 s, scrolled 90%), buys there for $30 — not the property's currency.
 *
 * Worked out by hand (EXPECTED): Purchase converted A and C (2 of 3 visitors, 3 conversions), earned
 * €150 in two purchases (€75 average) and $30 left out; /pricing: 216 s over 3 engaged visits = 72 s,
 * scroll (50 + 70 + 90) / 3 = 70%; B and C left from /pricing (2 exits of 3 views), A twice from
 * /checkout (2 of 2); visits: 3 new (A, B, C), 1 returning (A).
 */
import { expect } from "vitest";
import type { DevStack } from "../../../dev/stack.ts";
import { clickhouseCount, UA } from "./support.ts";

export const METRICS_PROPERTY = "UA-METRICS-1";
const HOUR = 3_600_000;

interface Hit {
  at: number;
  type: string;
  path: string;
  metrics?: Record<string, number>;
  currency?: string;
}

function visit(client: string, start: number, hits: Omit<Hit, "at">[], gapsSeconds: number[]) {
  let at = start;
  return hits.map((h, i) => {
    at += (gapsSeconds[i] ?? 0) * 1000;
    return {
      property_id: METRICS_PROPERTY,
      client_id: client,
      event_type: h.type,
      page_url: `https://shop.example${h.path}`,
      event_timestamp: new Date(at).toISOString(),
      user_agent: UA,
      ...(h.metrics ? { custom_metrics: h.metrics } : {}),
      ...(h.currency ? { custom_dimensions: { currency: h.currency } } : {}),
    };
  });
}

/** The four visits' events (times relative to `now`, the whole hours keep every visit in "30d"). */
export function metricsTraffic(now: number) {
  const engaged = (ms: number, depth: number) => ({ engagement_ms: ms, scroll_depth: depth });
  return [
    visit(
      "visitor-a",
      now - 50 * HOUR,
      [
        { type: "pageview", path: "/pricing" },
        { type: "engagement", path: "/pricing", metrics: engaged(60_000, 50) },
        { type: "pageview", path: "/checkout" },
        { type: "purchase", path: "/checkout", metrics: { revenue: 100 }, currency: "EUR" },
      ],
      [0, 60, 1, 30],
    ),
    visit(
      "visitor-a",
      now - 26 * HOUR,
      [
        { type: "pageview", path: "/checkout" },
        { type: "purchase", path: "/checkout", metrics: { revenue: 50 }, currency: "EUR" },
      ],
      [0, 40],
    ),
    visit(
      "visitor-b",
      now - 28 * HOUR,
      [
        { type: "pageview", path: "/pricing" },
        { type: "engagement", path: "/pricing", metrics: engaged(96_000, 70) },
        { type: "signup", path: "/pricing" },
      ],
      [0, 96, 1],
    ),
    visit(
      "visitor-c",
      now - 27 * HOUR,
      [
        { type: "pageview", path: "/pricing" },
        { type: "engagement", path: "/pricing", metrics: engaged(60_000, 90) },
        { type: "purchase", path: "/pricing", metrics: { revenue: 30 }, currency: "USD" },
      ],
      [0, 60, 1],
    ),
  ];
}

/** What the dashboard must show, cell by cell (en-US, as the tests' browser context). */
export const EXPECTED = {
  purchase: {
    total: 150,
    average: 75,
    cells: ["Purchase", "2", "3", "66.7%", "€150.00", "€75.00"],
    csv: /^Purchase,2,3,0\.66\d*,150,75$/,
  },
  purchaseUsd: { cells: ["Purchase", "2", "3", "66.7%", "$30.00", "$30.00"] },
  signup: { cells: ["Signup", "1", "1", "33.3%", "–", "–"] },
  pricing: { seconds: 72, scroll: 70, cells: ["/pricing", "3", "3", "1m 12s", "70%"] },
  // Viewed, never engaged: no figure rather than a made-up 0s.
  checkout: { cells: ["/checkout", "1", "2", "–", "–"] },
  exitPricing: { cells: ["/pricing", "2", "2", "66.7%"] },
  newVisits: { cells: ["New", "3", "3", "100%"] },
  returningVisits: { cells: ["Returning", "1", "1", "33.3%"] },
  split: "New 75%Returning 25%",
};

async function admin(stack: DevStack, path: string, body: unknown): Promise<Response> {
  return fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${stack.adminToken}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Creates the property (EUR) and its goals, sends the traffic, waits until ClickHouse holds it; answers its API key. */
export async function seedMetricsProperty(stack: DevStack): Promise<string> {
  const created = await admin(stack, "/api/v1/properties", {
    property_id: METRICS_PROPERTY,
    name: "Metrics shop",
    domains: ["shop.example"],
    timezone: "UTC",
    currency: "EUR",
  });
  expect(created.status, await created.clone().text()).toBe(201);
  const { api_key: key } = (await created.json()) as { api_key: string };
  const goals = `/api/v1/properties/${METRICS_PROPERTY}/goals`;
  for (const goal of [
    { name: "Purchase", kind: "event", event_name: "purchase" },
    { name: "Signup", kind: "event", event_name: "signup" },
    { name: "Pricing viewed", kind: "page", page_path: "/pricing" },
  ])
    expect((await admin(stack, goals, goal)).ok).toBe(true);
  const visits = metricsTraffic(Date.now());
  for (const events of visits) {
    const res = await fetch(`${stack.url}/collect`, {
      method: "POST",
      headers: { "Content-Type": "text/plain", "User-Agent": UA },
      body: JSON.stringify(events),
    });
    expect(res.status, await res.text()).toBe(202);
  }
  // The consumer writes in the background (expect.poll is for tests, not hooks): wait for events and visits.
  const where = `property_id = '${METRICS_PROPERTY}'`;
  const stored = async () =>
    [
      await clickhouseCount(stack, `SELECT count() FROM events WHERE ${where}`),
      await clickhouseCount(stack, `SELECT count() FROM sessions FINAL WHERE ${where}`),
    ].join();
  const want = [visits.flat().length, visits.length].join();
  const deadline = Date.now() + 60_000;
  while ((await stored()) !== want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  expect(await stored()).toBe(want);
  return key;
}
