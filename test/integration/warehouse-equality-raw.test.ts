/**
 * Funnels, retention and the bot audit answer from the warehouse as from ClickHouse (issue #16):
 * the same events in both stores, each question built by its ClickHouse builder
 * (core/query/funnel.ts, retention.ts, bots.ts) and its warehouse builder (warehouse-funnel.ts,
 * warehouse-retention.ts, warehouse-bots.ts, on the embedded PostgreSQL), shaped by the same code
 * and compared exactly. The data: hand-built journeys for windowFunnel's edge cases (order, window,
 * one event filling one step, events in one millisecond) and a few hundred random visitors.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toClickHouseRow } from "../../core/clickhouse-row.ts";
import type { Event } from "../../core/event.ts";
import { type BotsQuery, BotsQuerySchema, buildBotsSql, shapeBots } from "../../core/query/bots.ts";
import { buildFunnelSql, type FunnelQuery, FunnelSpecSchema, shapeFunnel } from "../../core/query/funnel.ts";
import { buildRetentionSql, shapeRetention } from "../../core/query/retention.ts";
import { buildWarehouseBotsSql } from "../../core/query/warehouse-bots.ts";
import { buildWarehouseFunnelSql } from "../../core/query/warehouse-funnel.ts";
import { buildWarehouseRetentionSql } from "../../core/query/warehouse-retention.ts";
import type { CompiledQuery } from "../../core/query/warehouse-scope.ts";
import { toWarehouseEventRow } from "../../core/warehouse/rows.ts";
import type { WarehouseDatabase } from "../../core/warehouse/schema.ts";
import { prng } from "../../dev/fixtures/dataset.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { openWarehouse } from "../../platform/warehouse.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

const P = "UA-WEQR-1";
const START = Date.UTC(2026, 9, 5); // Monday
const DAY = 86_400_000;
const HEADLESS_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0";

let sequence = 0;
function hit(client_id: string, at: number, what: { page: string } | { name: string }, more: Partial<Event> = {}) {
  const page = "page" in what ? what.page : "/";
  return makeEvent({
    property_id: P,
    client_id,
    event_id: `q${String(++sequence).padStart(6, "0")}`,
    event_type: "page" in what ? "pageview" : what.name,
    event_timestamp: at,
    page_url: `https://example.com${page}`,
    page_path: page,
    ...more,
  });
}
const page = (value: string) => ({ page: value });
const named = (value: string) => ({ name: value });
const T = (iso: string) => Date.parse(iso);

/** windowFunnel's edge cases, on 2026-11-20, after the random visitors: the counts each funnel below must give are known. */
const journeys: Event[] = [
  // / → /pricing → signup within an hour: j1 completes, j2 stops, j3 too late, j4 in reverse.
  hit("j1", T("2026-11-20T10:00:00Z"), page("/")),
  hit("j1", T("2026-11-20T10:01:00Z"), page("/pricing")),
  hit("j1", T("2026-11-20T10:02:00Z"), named("signup")),
  hit("j2", T("2026-11-20T11:00:00Z"), page("/")),
  hit("j2", T("2026-11-20T11:05:00Z"), page("/pricing")),
  hit("j3", T("2026-11-20T12:00:00Z"), page("/")),
  hit("j3", T("2026-11-20T12:30:00Z"), page("/pricing")),
  hit("j3", T("2026-11-20T13:00:00.001Z"), named("signup")),
  hit("j4", T("2026-11-20T13:00:00Z"), named("signup")),
  hit("j4", T("2026-11-20T13:01:00Z"), page("/pricing")),
  hit("j4", T("2026-11-20T13:02:00Z"), page("/")),
  // j5: a later landing starts a chain that fits the window where the first one did not.
  hit("j5", T("2026-11-20T08:00:00Z"), page("/")),
  hit("j5", T("2026-11-20T09:30:00Z"), page("/")),
  hit("j5", T("2026-11-20T09:40:00Z"), page("/pricing")),
  hit("j5", T("2026-11-20T09:50:00Z"), named("signup")),
  // j6: every step in one millisecond, written in reverse: counted in step order.
  hit("j6", T("2026-11-20T14:00:00Z"), named("signup")),
  hit("j6", T("2026-11-20T14:00:00Z"), page("/pricing")),
  hit("j6", T("2026-11-20T14:00:00Z"), page("/")),
  // j7: exactly the window (3600 s) after the landing: still in.
  hit("j7", T("2026-11-20T15:00:00Z"), page("/")),
  hit("j7", T("2026-11-20T15:10:00Z"), page("/pricing")),
  hit("j7", T("2026-11-20T16:00:00Z"), named("signup")),
  // /blog/** → /blog/launch → share: one pageview fills one step only.
  hit("b1", T("2026-11-20T10:00:00Z"), page("/blog/launch")),
  hit("b2", T("2026-11-20T10:00:00Z"), page("/blog/")),
  hit("b2", T("2026-11-20T10:00:05Z"), page("/blog/launch")),
  hit("b3", T("2026-11-20T10:00:00Z"), page("/blog/launch")),
  hit("b3", T("2026-11-20T10:00:00Z"), page("/blog/launch")),
  hit("b3", T("2026-11-20T10:00:01Z"), named("share")),
  hit("b4", T("2026-11-20T10:00:00Z"), page("/blog/launch")),
  hit("b4", T("2026-11-20T10:00:06Z"), named("share")),
];

const PAGES = ["/", "/pricing", "/blog/launch", "/blog/v1.0-notes", "/docs/start", "/docs/a/b", "/signup"];
const REASONS: Event["bot_reason"][] = ["headless", "ua_crawler", "datacenter_asn", "velocity", "cf_verified_bot"];

/** 300 visitors over five weeks: pageviews, signups and shares, returns, cookieless ids, bots of every kind. */
function generate(): Event[] {
  const rnd = prng(1616);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const out: Event[] = [];
  // Every instant once: the bot audit's samples (latest first) then have no ties to order.
  const taken = new Set<number>();
  const unique = (t: number) => {
    while (taken.has(t)) t++;
    taken.add(t);
    return t;
  };
  for (let v = 0; v < 300; v++) {
    const bot = rnd() < 0.12 ? pick(REASONS) : "";
    const cookieless = rnd() < 0.15;
    const visits = 1 + Math.floor(rnd() * 4);
    for (let s = 0; s < visits; s++) {
      let t = START + Math.floor(rnd() * 35 * DAY);
      for (let e = 0; e < 1 + Math.floor(rnd() * 6); e++) {
        const roll = rnd();
        const what = roll < 0.7 ? page(pick(PAGES)) : named(roll < 0.85 ? "signup" : "share");
        const more: Partial<Event> = {
          ...(cookieless ? { visitor_id_source: "cookieless" } : {}),
          ...(bot ? { is_bot: true, bot_reason: bot } : {}),
          ...(rnd() < 0.05 ? { user_agent: HEADLESS_UA } : {}),
          ...(rnd() < 0.05 ? { asn: 16509 } : {}),
          ...(rnd() < 0.03 ? { user_agent: "", source_protocol: "import" } : {}),
          ...(rnd() < 0.03 ? { user_agent: "" } : {}),
        };
        t = unique(t);
        out.push(hit(`v${v}`, t, what, more));
        t += Math.floor(rnd() * 20 * 60_000);
      }
    }
  }
  return out;
}

let client: ClickHouseClient;
let warehouse: Kysely<WarehouseDatabase>;

beforeAll(async () => {
  const events = [...journeys, ...generate()];
  const chRows = events.map((e) => toClickHouseRow(e, e.event_timestamp));
  ({ client } = await freshDatabase("weqr"));
  // The data sit on fixed past dates: without this, the raw-UA and retention TTLs (#17, tested in
  // ttl.test.ts) would blank or drop ClickHouse's copy while the warehouse's stays, as time passes.
  await client.command({ query: "ALTER TABLE events MODIFY COLUMN user_agent REMOVE TTL" });
  await client.command({ query: "ALTER TABLE events REMOVE TTL" });
  await client.insert({ table: "events", values: chRows, format: "JSONEachRow" });
  warehouse = openWarehouse(await freshWarehouse("weqr"));
  const whRows = chRows.map(toWarehouseEventRow);
  for (let i = 0; i < whRows.length; i += 500)
    await warehouse
      .insertInto("events")
      .values(whRows.slice(i, i + 500))
      .execute();
}, 120_000);

afterAll(async () => {
  await warehouse?.destroy();
});

const fromClickHouse = (s: { sql: string; params: Record<string, unknown> }) =>
  rows<Record<string, unknown>>(client, s.sql, s.params);
const fromWarehouse = async (q: CompiledQuery) => (await warehouse.executeQuery<Record<string, unknown>>(q)).rows;

const landing = FunnelSpecSchema.parse({
  steps: [
    { kind: "page", value: "/" },
    { kind: "page", value: "/pricing" },
    { kind: "event", value: "signup" },
  ],
  window_seconds: 3600,
});
const blog = FunnelSpecSchema.parse({
  steps: [
    { kind: "page", value: "/blog/**" },
    { kind: "page", value: "/blog/launch" },
    { kind: "event", value: "share" },
  ],
  window_seconds: 600,
});
const docs = FunnelSpecSchema.parse({
  steps: [
    { kind: "event", value: "signup" },
    { kind: "page", value: "/docs/*" },
  ],
});

async function bothFunnels(query: FunnelQuery) {
  const [ch, wh] = await Promise.all([
    fromClickHouse(buildFunnelSql(query)),
    fromWarehouse(buildWarehouseFunnelSql(query)),
  ]);
  const clickhouse = shapeFunnel(query.spec, ch);
  expect(shapeFunnel(query.spec, wh)).toEqual(clickhouse);
  return clickhouse.steps.map((s) => s.visitors);
}

const day = { from_ms: T("2026-11-20T00:00:00Z"), to_ms: T("2026-11-21T00:00:00Z") };
const weeks = { from_ms: START, to_ms: START + 35 * DAY };

describe("funnels: the warehouse counts as windowFunnel 'strict_once' does", () => {
  it("the hand-built journeys: order, window, a later start, one millisecond", async () => {
    // step 1: j1-j7 (b* never see /); step 2: j1 j2 j3 j5 j6 j7; step 3: j1 j5 j6 j7 (j3 a millisecond late).
    expect(await bothFunnels({ property_id: P, ...day, include_bots: false, spec: landing })).toEqual([7, 6, 4]);
  });

  it("one pageview fills one step only, within a ten-minute window", async () => {
    // step 2: b2 b3 (two pageviews), step 3: b3 (b4 has one pageview: level 1).
    expect(await bothFunnels({ property_id: P, ...day, include_bots: false, spec: blog })).toEqual([4, 2, 1]);
  });

  it.each([
    ["landing", landing, false],
    ["landing, bots too", landing, true],
    ["blog, two hours", { ...blog, window_seconds: 7200 }, false],
    ["docs (an event step first, one day)", docs, true],
  ] as const)("five weeks of random visitors: %s", async (_, spec, include_bots) => {
    const visitors = await bothFunnels({ property_id: P, ...weeks, include_bots, spec });
    // Not vacuous: the random visitors reach the last step too.
    expect(visitors.at(-1)).toBeGreaterThan(0);
  });
});

describe("retention: the warehouse's cohorts are ClickHouse's", () => {
  it.each([
    ["Europe/Berlin", false, 4],
    ["UTC", true, 8],
    ["America/New_York", false, 2],
  ] as const)("weeks in %s, bots %s, %d later weeks", async (timezone, include_bots, later) => {
    // From a Wednesday: the first cohort holds only visitors first seen from then on.
    const query = {
      property_id: P,
      from_ms: START + 2 * DAY,
      to_ms: START + 33 * DAY,
      include_bots,
      timezone,
      weeks: later,
    };
    const [ch, wh] = await Promise.all([
      fromClickHouse(buildRetentionSql(query)),
      fromWarehouse(buildWarehouseRetentionSql(query)),
    ]);
    const clickhouse = shapeRetention(ch, later);
    expect(clickhouse.cohorts.length).toBeGreaterThan(3);
    expect(shapeRetention(wh, later)).toEqual(clickhouse);
  });
});

describe("the bot audit: the warehouse's reasons, counts and samples are ClickHouse's", () => {
  /** Rows in ClickHouse's order, ties (same count) by reason: ClickHouse leaves their order open. */
  const ordered = (r: ReturnType<typeof shapeBots>) => ({
    ...r,
    by_reason: [...r.by_reason].sort((a, b) => b.events - a.events || a.reason.localeCompare(b.reason)),
  });

  it.each(["false", "true"] as const)("reclassify=%s", async (reclassify) => {
    const q: BotsQuery = BotsQuerySchema.parse({ property: P, reclassify, samples: "15" });
    const range = { from: START, to: START + 35 * DAY };
    // The raw user agents' period starts mid-range, so both branches of the rules are compared.
    const rawUaSince = START + 20 * DAY;
    const ch = buildBotsSql(q, range, rawUaSince);
    const wh = buildWarehouseBotsSql(q, range, rawUaSince);
    const [chReasons, chSamples, whReasons, whSamples] = await Promise.all([
      fromClickHouse(ch.byReason),
      fromClickHouse(ch.samples),
      fromWarehouse(wh.byReason),
      fromWarehouse(wh.samples),
    ]);
    const clickhouse = ordered(shapeBots(q, range, chReasons, chSamples));
    expect(clickhouse.by_reason.length).toBeGreaterThanOrEqual(reclassify === "true" ? 6 : 5);
    expect(clickhouse.samples).toHaveLength(15);
    expect(ordered(shapeBots(q, range, whReasons, whSamples))).toEqual(clickhouse);
  });
});
