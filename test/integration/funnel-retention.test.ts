/**
 * core/query/funnel.ts and core/query/retention.ts against the real engine: hand-built visitor
 * journeys whose funnel counts and cohort shares are known exactly.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { type EventRow, toClickHouseRow } from "../../core/clickhouse-row.ts";
import type { Event } from "../../core/event.ts";
import { buildFunnelSql, type FunnelSpec, FunnelSpecSchema, shapeFunnel } from "../../core/query/funnel.ts";
import { buildRetentionSql, shapeRetention } from "../../core/query/retention.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const FUNNEL = "UA-FUNNEL-1";
const RETENTION = "UA-RETAIN-1";
const OTHER = "UA-OTHER-1";

let client: ClickHouseClient;
let sequence = 0;

/** One stored event: a pageview of `page`, or the custom event `name` (on `/`). */
function hit(
  property: string,
  client_id: string,
  iso: string,
  what: { page: string } | { name: string },
  more: Partial<Event> = {},
): EventRow {
  const at = Date.parse(iso);
  const page = "page" in what ? what.page : "/";
  return toClickHouseRow(
    makeEvent({
      property_id: property,
      client_id,
      event_id: `e${++sequence}`,
      event_type: "page" in what ? "pageview" : what.name,
      event_timestamp: at,
      page_url: `https://example.com${page}`,
      page_path: page,
      ...more,
    }),
    at,
  );
}

const page = (value: string) => ({ page: value });
const named = (value: string) => ({ name: value });
const bot = { is_bot: true, bot_reason: "headless" } as const;

// Funnel journeys, all on 2026-11-03 (UTC). Steps: `/` → `/pricing` → `signup`, window 1 h.
const funnelRows = [
  // f1 completes every step.
  hit(FUNNEL, "f1", "2026-11-03T10:00:00Z", page("/")),
  hit(FUNNEL, "f1", "2026-11-03T10:01:00Z", page("/pricing")),
  hit(FUNNEL, "f1", "2026-11-03T10:02:00Z", named("signup")),
  // f2 stops at the pricing page.
  hit(FUNNEL, "f2", "2026-11-03T11:00:00Z", page("/")),
  hit(FUNNEL, "f2", "2026-11-03T11:05:00Z", page("/pricing")),
  // f3 only lands.
  hit(FUNNEL, "f3", "2026-11-03T12:00:00Z", page("/")),
  // f4 does every step, in reverse: only the landing (its last event) counts.
  hit(FUNNEL, "f4", "2026-11-03T13:00:00Z", named("signup")),
  hit(FUNNEL, "f4", "2026-11-03T13:01:00Z", page("/pricing")),
  hit(FUNNEL, "f4", "2026-11-03T13:02:00Z", page("/")),
  // f5 signs up two hours later, outside the window.
  hit(FUNNEL, "f5", "2026-11-03T14:00:00Z", page("/")),
  hit(FUNNEL, "f5", "2026-11-03T14:30:00Z", page("/pricing")),
  hit(FUNNEL, "f5", "2026-11-03T16:00:00Z", named("signup")),
  // f6 is a bot that completes every step.
  hit(FUNNEL, "f6", "2026-11-03T15:00:00Z", page("/"), bot),
  hit(FUNNEL, "f6", "2026-11-03T15:00:01Z", page("/pricing"), bot),
  hit(FUNNEL, "f6", "2026-11-03T15:00:02Z", named("signup"), bot),
  // f7 completes every step on another property (same client id as f3).
  hit(OTHER, "f3", "2026-11-03T12:10:00Z", page("/pricing")),
  hit(OTHER, "f7", "2026-11-03T10:00:00Z", page("/")),
  hit(OTHER, "f7", "2026-11-03T10:01:00Z", page("/pricing")),
  hit(OTHER, "f7", "2026-11-03T10:02:00Z", named("signup")),
  // f8's first two are custom events on those pages, not pageviews: no page step.
  hit(FUNNEL, "f8", "2026-11-03T10:00:00Z", named("click"), { page_path: "/" }),
  hit(FUNNEL, "f8", "2026-11-03T10:01:00Z", named("click"), { page_path: "/pricing" }),
  hit(FUNNEL, "f8", "2026-11-03T10:02:00Z", named("signup")),
  // f9 completes every step the day before the range.
  hit(FUNNEL, "f9", "2026-11-02T10:00:00Z", page("/")),
  hit(FUNNEL, "f9", "2026-11-02T10:01:00Z", page("/pricing")),
  hit(FUNNEL, "f9", "2026-11-02T10:02:00Z", named("signup")),
  // Patterns with regex metacharacters: `/docs/v1.0/*` → `/buy/**` → `/a+b(c)?[x]`.
  hit(FUNNEL, "p1", "2026-11-03T10:00:00Z", page("/docs/v1.0/intro")),
  hit(FUNNEL, "p1", "2026-11-03T10:01:00Z", page("/buy/now/x")),
  hit(FUNNEL, "p1", "2026-11-03T10:02:00Z", page("/a+b(c)?[x]")),
  hit(FUNNEL, "p2", "2026-11-03T10:00:00Z", page("/docs/v1x0/intro")), // `.` is literal
  hit(FUNNEL, "p3", "2026-11-03T10:00:00Z", page("/docs/v1.0/a/b")), // `*` stays in one segment
  hit(FUNNEL, "p4", "2026-11-03T10:00:00Z", page("/docs/v1.0/")), // `*` may be empty
  hit(FUNNEL, "p4", "2026-11-03T10:01:00Z", page("/buy")), // `/**` needs the slash
  hit(FUNNEL, "p5", "2026-11-03T10:00:00Z", page("/docs/v1.0/setup")),
  hit(FUNNEL, "p5", "2026-11-03T10:01:00Z", page("/buy/")),
  hit(FUNNEL, "p5", "2026-11-03T10:02:00Z", page("/aabcx")), // what the unescaped regex would match
  // Overlapping steps `/blog/**` → `/blog/launch` → `share`: one pageview fills only one step.
  hit(FUNNEL, "b1", "2026-11-03T10:00:00Z", page("/blog/launch")),
  hit(FUNNEL, "b2", "2026-11-03T10:00:00Z", page("/blog/")),
  hit(FUNNEL, "b2", "2026-11-03T10:00:05Z", page("/blog/launch")),
  hit(FUNNEL, "b3", "2026-11-03T10:00:00Z", page("/blog/launch")),
  hit(FUNNEL, "b3", "2026-11-03T10:00:05Z", page("/blog/launch")),
  hit(FUNNEL, "b4", "2026-11-03T10:00:00Z", page("/blog/a")),
  hit(FUNNEL, "b4", "2026-11-03T10:00:05Z", page("/blog/launch")),
  hit(FUNNEL, "b4", "2026-11-03T10:00:06Z", named("share")),
];

// Retention journeys, in Europe/Berlin weeks starting Mon 2026-11-02 (CET, UTC+1); range 4 weeks.
const RETENTION_FROM = Date.parse("2026-11-01T23:00:00Z"); // Mon 2026-11-02 00:00 CET
const RETENTION_TO = Date.parse("2026-11-29T23:00:00Z"); // Mon 2026-11-30 00:00 CET
const retentionRows = [
  // Cohort 2026-11-02: r1 back in weeks 1 and 3, r2 in week 1, r3 never (in range).
  hit(RETENTION, "r1", "2026-11-03T12:00:00Z", page("/")),
  hit(RETENTION, "r1", "2026-11-03T13:00:00Z", page("/a")),
  hit(RETENTION, "r1", "2026-11-10T12:00:00Z", page("/")),
  hit(RETENTION, "r1", "2026-11-25T12:00:00Z", named("signup")),
  hit(RETENTION, "r2", "2026-11-04T12:00:00Z", page("/")),
  hit(RETENTION, "r2", "2026-11-12T12:00:00Z", page("/")),
  hit(RETENTION, "r2", "2026-11-13T12:00:00Z", page("/")),
  hit(RETENTION, "r3", "2026-11-05T12:00:00Z", page("/")),
  hit(RETENTION, "r3", "2026-12-01T12:00:00Z", page("/")), // after `to`
  // Cohort 2026-11-09: r4 back in week 1; r5's only visit is Sun 23:30 UTC = Mon 00:30 in Berlin.
  hit(RETENTION, "r4", "2026-11-10T12:00:00Z", page("/")),
  hit(RETENTION, "r4", "2026-11-17T12:00:00Z", page("/")),
  hit(RETENTION, "r5", "2026-11-08T23:30:00Z", page("/")),
  // Cohort 2026-11-23: r11, in the last week of the range.
  hit(RETENTION, "r11", "2026-11-24T12:00:00Z", page("/")),
  // r6 first came before the range: no cohort.
  hit(RETENTION, "r6", "2026-10-20T12:00:00Z", page("/")),
  hit(RETENTION, "r6", "2026-11-03T12:00:00Z", page("/")),
  // r7 is a bot, cohort 2026-11-02, back in week 2.
  hit(RETENTION, "r7", "2026-11-03T12:00:00Z", page("/"), bot),
  hit(RETENTION, "r7", "2026-11-18T12:00:00Z", page("/"), bot),
  // r8 is on another property.
  hit(OTHER, "r8", "2026-11-03T12:00:00Z", page("/")),
  hit(OTHER, "r8", "2026-11-10T12:00:00Z", page("/")),
  // r9 has a cookieless id, which cannot return by design.
  hit(RETENTION, "r9", "2026-11-03T12:00:00Z", page("/"), { visitor_id_source: "cookieless" }),
];

beforeAll(async () => {
  ({ client } = await freshDatabase("funnel_retention"));
  await client.insert({ table: "events", values: [...funnelRows, ...retentionRows], format: "JSONEachRow" });
});

const FUNNEL_FROM = Date.parse("2026-11-03T00:00:00Z");
const FUNNEL_TO = Date.parse("2026-11-04T00:00:00Z");

async function funnel(spec: FunnelSpec, include_bots = false) {
  const { sql, params } = buildFunnelSql({
    property_id: FUNNEL,
    from_ms: FUNNEL_FROM,
    to_ms: FUNNEL_TO,
    include_bots,
    spec,
  });
  return shapeFunnel(spec, await rows<Record<string, unknown>>(client, sql, params));
}

const signupFunnel = FunnelSpecSchema.parse({
  steps: [
    { kind: "page", value: "/", label: "Landing" },
    { kind: "page", value: "/pricing" },
    { kind: "event", value: "signup" },
  ],
  window_seconds: 3600,
});

const visitorsPerStep = (result: Awaited<ReturnType<typeof funnel>>) => result.steps.map((s) => s.visitors);

describe("funnels against the real engine", () => {
  it("counts visitors per step, in order, within the window, on the property and range only", async () => {
    // step 1: f1 f2 f3 f4 f5; step 2: f1 f2 f5; step 3: f1 (f5 too late, f8 no pageviews, f9 out of range).
    const result = await funnel(signupFunnel);
    expect(result.steps).toEqual([
      { step: 1, label: "Landing", visitors: 5, conversion_rate: 1, drop_off: 0, drop_off_rate: 0 },
      { step: 2, label: "/pricing", visitors: 3, conversion_rate: 0.6, drop_off: 2, drop_off_rate: 0.4 },
      { step: 3, label: "signup", visitors: 1, conversion_rate: 0.2, drop_off: 2, drop_off_rate: 2 / 3 },
    ]);
  });

  it("counts bots only when asked to", async () => {
    expect(visitorsPerStep(await funnel(signupFunnel, true))).toEqual([6, 4, 2]);
  });

  it("counts a late step once the window is wide enough", async () => {
    expect(visitorsPerStep(await funnel({ ...signupFunnel, window_seconds: 3 * 3600 }))).toEqual([5, 3, 2]);
  });

  it("matches page patterns literally except for * and **", async () => {
    const spec = FunnelSpecSchema.parse({
      steps: [
        { kind: "page", value: "/docs/v1.0/*" },
        { kind: "page", value: "/buy/**" },
        { kind: "page", value: "/a+b(c)?[x]" },
      ],
    });
    // step 1: p1 p4 p5; step 2: p1 p5; step 3: p1.
    expect(visitorsPerStep(await funnel(spec))).toEqual([3, 2, 1]);
  });

  it("lets one pageview fill only one of two overlapping steps", async () => {
    const spec = FunnelSpecSchema.parse({
      steps: [
        { kind: "page", value: "/blog/**" },
        { kind: "page", value: "/blog/launch" },
        { kind: "event", value: "share" },
      ],
    });
    // step 1: b1 b2 b3 b4; step 2: b2 b3 b4 (b1 saw the page once); step 3: b4.
    expect(visitorsPerStep(await funnel(spec))).toEqual([4, 3, 1]);
  });

  it("answers zeros for a funnel nobody entered", async () => {
    const spec = FunnelSpecSchema.parse({
      steps: [
        { kind: "event", value: "never" },
        { kind: "page", value: "/" },
      ],
    });
    expect(visitorsPerStep(await funnel(spec))).toEqual([0, 0]);
  });
});

async function retention(
  overrides: { timezone?: string; include_bots?: boolean; weeks?: number; from_ms?: number } = {},
) {
  const { sql, params } = buildRetentionSql({
    property_id: RETENTION,
    from_ms: overrides.from_ms ?? RETENTION_FROM,
    to_ms: RETENTION_TO,
    include_bots: overrides.include_bots ?? false,
    timezone: overrides.timezone ?? "Europe/Berlin",
    weeks: overrides.weeks,
  });
  return shapeRetention(await rows<Record<string, unknown>>(client, sql, params), overrides.weeks);
}

describe("retention against the real engine", () => {
  it("groups visitors by their first week and reports the share back in each later week", async () => {
    // Not in any cohort: r6 (first seen before the range), r8 (another property), r9 (cookieless).
    // Weeks not yet begun before `to` are absent: 2026-11-09 has two later weeks, 2026-11-23 none.
    expect(await retention()).toEqual({
      cohorts: [
        { cohort: "2026-11-02", visitors: 3, retention: [1, 2 / 3, 0, 1 / 3] },
        { cohort: "2026-11-09", visitors: 2, retention: [1, 0.5, 0] },
        { cohort: "2026-11-23", visitors: 1, retention: [1] },
      ],
    });
  });

  it("counts bots only when asked to", async () => {
    const { cohorts } = await retention({ include_bots: true });
    expect(cohorts[0]).toEqual({ cohort: "2026-11-02", visitors: 4, retention: [1, 0.5, 0.25, 0.25] });
  });

  it("starts weeks on the query time zone's Monday", async () => {
    // In UTC, r5's Sunday-night visit belongs to the week of 2026-11-02; the range starts on a
    // Sunday (UTC), so nothing else moves.
    expect(await retention({ timezone: "UTC" })).toEqual({
      cohorts: [
        { cohort: "2026-11-02", visitors: 4, retention: [1, 0.5, 0, 0.25] },
        { cohort: "2026-11-09", visitors: 1, retention: [1, 1, 0] },
        { cohort: "2026-11-23", visitors: 1, retention: [1] },
      ],
    });
  });

  it("answers a range of more than 64 weeks (too many for one bit per week) the same way", async () => {
    // The November cohorts are ~66 weeks after the range's first Monday. r6's first visit is now in
    // range: its cohort is the week of 2026-10-19, back two weeks later.
    const from_ms = RETENTION_TO - 70 * 7 * 86_400_000;
    expect(await retention({ from_ms })).toEqual({
      cohorts: [
        { cohort: "2026-10-19", visitors: 1, retention: [1, 0, 1, 0, 0, 0] },
        { cohort: "2026-11-02", visitors: 3, retention: [1, 2 / 3, 0, 1 / 3] },
        { cohort: "2026-11-09", visitors: 2, retention: [1, 0.5, 0] },
        { cohort: "2026-11-23", visitors: 1, retention: [1] },
      ],
    });
    expect(buildRetentionSql({ property_id: RETENTION, from_ms, to_ms: RETENTION_TO, timezone: "UTC" }).sql).toContain(
      "groupUniqArray",
    );
  });

  it("reports at most the requested number of later weeks", async () => {
    const { cohorts } = await retention({ weeks: 1 });
    expect(cohorts.map((c) => c.retention)).toEqual([[1, 2 / 3], [1, 0.5], [1]]);
  });
});
