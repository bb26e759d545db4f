/**
 * The scheduled aggregates against the real embedded PostgreSQL: a small hand-made week of events
 * and sessions, and every figure of the day, its week and its month, the cohorts and a saved
 * funnel's counts checked against values worked out by hand (in the comments). Re-runs replace.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregateDay } from "../../consumers/warehouse-aggregate-day.ts";
import type { SavedFunnel } from "../../core/property/funnels.ts";
import { EVENT_COLUMNS, SESSION_COLUMNS } from "../../core/query/columns.ts";
import { DIMENSION_SOURCES } from "../../core/warehouse/aggregates.ts";
import type { WarehouseEventRow, WarehouseSessionRow } from "../../core/warehouse/schema.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

const P = "agg-site";
const at = (text: string) => new Date(`${text}Z`);

function event(client: string, session: string, time: string, path: string, more: Partial<WarehouseEventRow> = {}) {
  const row: WarehouseEventRow = {
    event_id: `${session}-${time}`,
    property_id: P,
    client_id: client,
    user_id: "",
    session_id: session,
    event_type: "pageview",
    event_timestamp: at(time),
    received_at: at(time),
    page_url: `https://example.com${path}`,
    page_title: "",
    referrer: "",
    user_agent: "",
    screen_resolution: "",
    viewport_size: "",
    language: "en",
    custom_dimensions: "{}",
    custom_metrics: "{}",
    visitor_id_source: "client",
    source_protocol: "tally",
    interactive: true,
    browser: "Chrome",
    browser_version: "1",
    os: "Linux",
    os_version: "1",
    device_type: "desktop",
    country: "DE",
    region: "",
    city: "",
    continent: "",
    geo_timezone: "",
    asn: 0,
    page_host: "example.com",
    page_path: path,
    utm_source: "",
    utm_medium: "",
    utm_campaign: "",
    utm_term: "",
    utm_content: "",
    click_id_type: "",
    referrer_host: "",
    source: "",
    channel: "Direct",
    ip_prefix: "",
    is_bot: false,
    bot_reason: "",
  };
  return { ...row, ...more };
}

function session(id: string, client: string, opened: string, s: Partial<WarehouseSessionRow>): WarehouseSessionRow {
  return {
    session_id: id,
    property_id: P,
    client_id: client,
    opened_at: at(opened),
    started_at: at(opened),
    last_event_at: at(opened),
    pageviews: 1,
    events: 1,
    interactive_events: 1,
    is_bounce: true,
    duration: 0,
    entry_page: "/home",
    exit_page: "/home",
    hostname: "example.com",
    referrer_host: "",
    source: "",
    channel: "Direct",
    utm_source: "",
    utm_medium: "",
    utm_campaign: "",
    utm_term: "",
    utm_content: "",
    device_type: "desktop",
    browser: "Chrome",
    browser_version: "1",
    os: "Linux",
    os_version: "1",
    screen_resolution: "",
    language: "en",
    country: "DE",
    region: "",
    city: "",
    is_bot: false,
    version: 1,
    ...s,
  };
}

const google = { source: "Google", channel: "Organic Search", referrer_host: "google.com" };
const us = { country: "US", device_type: "mobile", browser: "Safari", os: "iOS" };
const cookieless = { visitor_id_source: "cookieless" };

const SESSIONS = [
  session("s1", "c1", "2026-03-04T10:00:00", { ...google, pageviews: 2, events: 3, is_bounce: false, duration: 360 }),
  session("s2", "c2", "2026-03-04T12:00:00", { ...us, entry_page: "/pricing" }),
  session("s3", "c1", "2026-03-05T09:00:00", {
    source: "Twitter",
    channel: "Organic Social",
    pageviews: 2,
    events: 2,
    is_bounce: false,
    duration: 60,
  }),
  session("s4", "cb", "2026-03-04T13:00:00", { ...google, is_bot: true }),
  session("s5", "c3", "2026-03-03T23:50:00", {
    ...google,
    country: "FR",
    entry_page: "/blog",
    pageviews: 2,
    events: 2,
    is_bounce: false,
    duration: 1200,
  }),
  session("s6", "c4", "2026-02-25T10:00:00", { ...google, ...us }),
  session("s7", "c4", "2026-03-04T15:00:00", {
    ...google,
    ...us,
    entry_page: "/pricing",
    pageviews: 2,
    events: 2,
    is_bounce: false,
    duration: 60,
  }),
  session("s8", "c5", "2026-03-01T10:00:00", { source: "Bing", channel: "Organic Search", country: "GB" }),
  session("s9", "c6", "2025-11-05T10:00:00", { ...google, ...us }),
  session("s10", "c6", "2026-03-05T11:00:00", { ...google, ...us }),
];

const EVENTS = [
  event("c1", "s1", "2026-03-04T10:00:00", "/home"),
  event("c1", "s1", "2026-03-04T10:05:00", "/pricing"),
  event("c1", "s1", "2026-03-04T10:06:00", "/pricing", { event_type: "signup" }),
  event("c2", "s2", "2026-03-04T12:00:00", "/pricing", { ...us, ...cookieless }),
  event("c1", "s3", "2026-03-05T09:00:00", "/home"),
  event("c1", "s3", "2026-03-05T09:01:00", "/pricing"),
  event("cb", "s4", "2026-03-04T13:00:00", "/home", { is_bot: true }),
  event("c3", "s5", "2026-03-03T23:50:00", "/blog", { country: "FR" }),
  event("c3", "s5", "2026-03-04T00:10:00", "/pricing", { country: "FR" }),
  event("c4", "s6", "2026-02-25T10:00:00", "/home", us),
  event("c4", "s7", "2026-03-04T15:00:00", "/pricing", us),
  event("c4", "s7", "2026-03-04T15:01:00", "/home", us),
  event("c5", "s8", "2026-03-01T10:00:00", "/home", { country: "GB" }),
  event("c6", "s9", "2025-11-05T10:00:00", "/home", us),
  event("c6", "s10", "2026-03-05T11:00:00", "/home", us),
];

const FUNNELS: SavedFunnel[] = [
  {
    id: "signup",
    name: "Signup",
    steps: [
      { kind: "page", value: "/home" },
      { kind: "page", value: "/pricing", label: "Pricing" },
      { kind: "event", value: "signup" },
    ],
  },
  {
    id: "pattern",
    name: "Any p page",
    steps: [
      { kind: "page", value: "/p*" },
      { kind: "event", value: "signup" },
    ],
  },
];
/** The PropertyDO's saved funnels, as the Worker's shell (runAggregates) reads them. */
const funnelsOf = async (id: string) => (id === P ? FUNNELS : []);
const runAggregates = (db: Warehouse, day: string) => aggregateDay(db, day, funnelsOf);

const FIGURES = ["visitors", "visits", "pageviews", "events", "bounces", "duration_seconds"] as const;
type Figures = [number, number, number, number, number, number];

let db: Warehouse;

beforeAll(async () => {
  db = openWarehouse(await freshWarehouse("aggregates"));
  await db.insertInto("events").values(EVENTS).execute();
  await db.insertInto("sessions").values(SESSIONS).execute();
  await db
    .insertInto("user_cohorts")
    .values([
      // A later week's cell (a run for a later day wrote it): kept.
      { property_id: P, cohort_week: "2026-02-23", week_offset: 2, visitors: 99 },
      // A stale cell of the day's week: replaced.
      { property_id: P, cohort_week: "2026-03-02", week_offset: 0, visitors: 77 },
      // A cohort older than the window: kept.
      { property_id: P, cohort_week: "2025-12-08", week_offset: 0, visitors: 5 },
    ])
    .execute();
});

afterAll(async () => {
  await db?.destroy();
});

async function figures(table: "daily_metrics" | "weekly_reports" | "monthly_reports", dimension: string) {
  const column = table === "daily_metrics" ? "day" : table === "weekly_reports" ? "week_start" : "month_start";
  const rows = await db
    .selectFrom(table)
    .selectAll()
    .where("property_id", "=", P)
    .where("dimension", "=", dimension)
    .execute();
  return Object.fromEntries(
    rows.map((r) => [`${(r as Record<string, unknown>)[column]} ${r.value}`, FIGURES.map((f) => r[f]) as Figures]),
  );
}

describe("aggregateDay (runAggregates without its Env shell)", () => {
  it("maps each dimension to the columns the ClickHouse planner reads", () => {
    for (const [dim, source] of Object.entries(DIMENSION_SOURCES)) {
      if ("events" in source)
        expect(EVENT_COLUMNS[dim as keyof typeof EVENT_COLUMNS] ?? "page_path").toBe(source.events);
      if ("sessions" in source) expect(SESSION_COLUMNS[dim as keyof typeof SESSION_COLUMNS]).toBe(source.sessions);
    }
  });

  it("writes the day, its week and its month as worked out by hand", async () => {
    expect(await runAggregates(db, "2026-03-04")).toBeGreaterThan(0);
    // Day: events c1 ×3 (2 views), c2, c3 (00:10), c4 ×2; visits s1, s2, s7 (s5 opened the day before).
    expect(await figures("daily_metrics", "")).toEqual({ "2026-03-04 ": [4, 3, 6, 7, 1, 420] });
    // event:page: distinct sessions with the page; a whole visit's figures are not split by page.
    expect(await figures("daily_metrics", "event:page")).toEqual({
      "2026-03-04 /home": [2, 2, 2, 2, 0, 0],
      "2026-03-04 /pricing": [4, 4, 4, 5, 0, 0],
    });
    // Session-scoped: all from the sessions opened that day (their pageviews and events summed).
    expect(await figures("daily_metrics", "visit:source")).toEqual({
      "2026-03-04 Google": [2, 2, 4, 5, 0, 420],
      "2026-03-04 ": [1, 1, 1, 1, 1, 0],
    });
    expect(await figures("daily_metrics", "visit:referrer")).toEqual({
      "2026-03-04 google.com": [2, 2, 4, 5, 0, 420],
      "2026-03-04 ": [1, 1, 1, 1, 1, 0],
    });
    // Visitor-scoped: visitors, views and events from events' own column, visits from sessions'.
    expect(await figures("daily_metrics", "visit:country")).toEqual({
      "2026-03-04 DE": [1, 1, 2, 3, 0, 360],
      "2026-03-04 US": [2, 2, 3, 3, 1, 60],
      "2026-03-04 FR": [1, 0, 1, 1, 0, 0],
    });
    // Week Mon 2 – Sun 8 March: adds c3's Tuesday, c1's and c6's Thursday; visits s5, s1, s2, s7, s3, s10.
    expect(await figures("weekly_reports", "")).toEqual({ "2026-03-02 ": [5, 6, 10, 11, 2, 1680] });
    expect((await figures("weekly_reports", "visit:source"))["2026-03-02 Google"]).toEqual([4, 4, 7, 8, 1, 1620]);
    // Month: adds c5's Sunday 1 March (the week before); c4's February and the bot never count.
    expect(await figures("monthly_reports", "")).toEqual({ "2026-03-01 ": [6, 7, 11, 12, 3, 1680] });
    expect(await figures("monthly_reports", "visit:device")).toEqual({
      "2026-03-01 desktop": [3, 4, 7, 8, 1, 1620],
      "2026-03-01 mobile": [3, 3, 4, 4, 2, 60],
    });
  });

  it("writes weekly cohorts of first-party visitors, keeping cells it does not own", async () => {
    const rows = await db
      .selectFrom("user_cohorts")
      .select(["cohort_week", "week_offset", "visitors"])
      .where("property_id", "=", P)
      .orderBy("cohort_week")
      .orderBy("week_offset")
      .execute();
    // c4 first seen 25 Feb, back in March; c5 first seen Sun 1 March (that Monday's week); c1, c3 in the
    // day's week; c2 is cookieless, c6 was first seen in November (before the window), cb is a bot.
    expect(rows).toEqual([
      { cohort_week: "2025-12-08", week_offset: 0, visitors: 5 },
      { cohort_week: "2026-02-23", week_offset: 0, visitors: 2 },
      { cohort_week: "2026-02-23", week_offset: 1, visitors: 1 },
      { cohort_week: "2026-02-23", week_offset: 2, visitors: 99 },
      { cohort_week: "2026-03-02", week_offset: 0, visitors: 2 },
    ]);
  });

  it("counts each saved funnel's steps in order within the day", async () => {
    const rows = await db
      .selectFrom("conversion_funnels")
      .select(["funnel_id", "step", "step_name", "visitors"])
      .where("property_id", "=", P)
      .where("day", "=", "2026-03-04")
      .orderBy("funnel_id")
      .orderBy("step")
      .execute();
    // c1: /home → /pricing → signup. c4: /pricing before /home, so only step 1. c2, c3: no /home.
    // "/p*": c1, c2, c3, c4 viewed /pricing; only c1 signed up after.
    expect(rows).toEqual([
      { funnel_id: "pattern", step: 1, step_name: "/p*", visitors: 4 },
      { funnel_id: "pattern", step: 2, step_name: "signup", visitors: 1 },
      { funnel_id: "signup", step: 1, step_name: "/home", visitors: 2 },
      { funnel_id: "signup", step: 2, step_name: "Pricing", visitors: 1 },
      { funnel_id: "signup", step: 3, step_name: "signup", visitors: 1 },
    ]);
  });

  it("replaces its rows on a re-run instead of adding to them", async () => {
    const count = async () =>
      Promise.all(
        (["daily_metrics", "weekly_reports", "monthly_reports", "user_cohorts", "conversion_funnels"] as const).map(
          async (t) =>
            (
              await db
                .selectFrom(t)
                .select((eb) => eb.fn.countAll<number>().as("n"))
                .executeTakeFirstOrThrow()
            ).n,
        ),
      );
    const before = await count();
    await runAggregates(db, "2026-03-04");
    expect(await count()).toEqual(before);
    expect(await figures("daily_metrics", "")).toEqual({ "2026-03-04 ": [4, 3, 6, 7, 1, 420] });
  });
});
