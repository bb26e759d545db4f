import { describe, expect, it } from "vitest";
import { type GoalRef, normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import { planQuery, planRawQuestion, sketchPrecision } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";

const NOW = Date.parse("2026-11-26T12:34:56.789Z");
const GOALS: GoalRef[] = [{ name: "Signup", kind: "event", event_name: "signup" }];

function resolve(spec: Partial<QuerySpecInput>, timezone = "UTC"): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({ property_id: "UA-1-1", metrics: ["visitors"], ...spec });
  return normaliseQuery(parsed, {
    propertyTimezone: timezone,
    createdAt: NOW - 400 * 86_400_000,
    now: NOW,
    goals: GOALS,
  });
}

const plan = (spec: Partial<QuerySpecInput>, tz?: string) => planQuery(resolve(spec, tz), NOW, 90);
const tables = (spec: Partial<QuerySpecInput>, tz?: string) => plan(spec, tz).legs.map((l) => l.table);

describe("planQuery: which store answers", () => {
  it.each<[string, Partial<QuerySpecInput>, string]>([
    ["realtime totals", { date_range: "realtime", metrics: ["visitors", "pageviews"] }, "live"],
    ["realtime per minute", { date_range: "realtime", dimensions: ["time:minute"] }, "live"],
    ["realtime top pages", { date_range: "realtime", metrics: ["pageviews"], dimensions: ["event:page"] }, "live"],
    [
      "realtime visitors by page: not in the windows",
      { date_range: "realtime", dimensions: ["event:page"] },
      "clickhouse",
    ],
    ["realtime with a filter", { date_range: "realtime", filters: [["is", "visit:device", ["mobile"]]] }, "clickhouse"],
    ["realtime bounce rate", { date_range: "realtime", metrics: ["bounce_rate"] }, "clickhouse"],
    ["realtime with bots", { date_range: "realtime", include: { bots: true } }, "clickhouse"],
    ["today", { date_range: "today" }, "clickhouse"],
    ["last 30 minutes as explicit times", { date_range: ["2026-11-26T12:05:00Z", "2026-11-26T12:35:00Z"] }, "live"],
    ["90 days", { date_range: "90d" }, "clickhouse"],
    // No frontier yet: ClickHouse has dropped nothing, so it answers.
    ["12 months, nothing loaded into the warehouse", { date_range: "12mo" }, "clickhouse"],
    ["a range a year ago, nothing loaded", { date_range: ["2025-10-01", "2025-10-31"] }, "clickhouse"],
  ])("%s → %s", (_, spec, source) => {
    expect(plan(spec).source).toBe(source);
  });
});

describe("planRawQuestion: funnels, retention and the bot audit follow the same routing rule", () => {
  const range = (days: number) => ({ from: NOW - days * 86_400_000, to: NOW });
  const loaded = Date.parse("2026-11-26T11:00:00Z");
  it.each(["funnel", "retention", "bots"] as const)(
    "%s: raw events in ClickHouse inside the hot retention, the warehouse beyond",
    (kind) => {
      const hot = planRawQuestion(kind, range(89), NOW, 90);
      expect(hot).toMatchObject({ source: "clickhouse", reason: `${kind}: raw events` });
      expect(hot.legs.map((l) => l.table)).toEqual(["events"]);
      // No frontier in the warehouse yet: ClickHouse has dropped nothing and answers.
      const cold = planRawQuestion(kind, range(91), NOW, 90);
      expect(cold).toMatchObject({ source: "clickhouse", legs: [{ table: "events" }] });
      expect(cold.reason).toContain("the warehouse has no loaded frontier yet: ClickHouse, which has dropped nothing");
      // The same boundary as the query language's own plans.
      expect(planQuery(resolve({ date_range: ["2025-10-01", "2025-10-31"] }), NOW, 90).reason).toContain(
        "the warehouse has no loaded frontier yet",
      );
      // Loaded: the warehouse's raw events, cut where it ends (a funnel cannot be merged across stores).
      const warm = planRawQuestion(kind, range(91), NOW, 90, loaded);
      expect(warm).toMatchObject({ source: "warehouse", boundary: loaded });
      expect(warm.legs.map((l) => l.table)).toEqual(["events"]);
      expect(warm.reason).toContain("cut at 2026-11-26T11:00:00.000Z");
      const old = planRawQuestion(kind, { from: NOW - 200 * 86_400_000, to: NOW - 150 * 86_400_000 }, NOW, 90, loaded);
      expect(old).toMatchObject({ source: "warehouse", legs: [{ table: "events" }] });
      expect(old.boundary).toBeUndefined();
    },
  );
});

describe("planQuery: ranges beyond the hot retention, by how far the warehouse is loaded", () => {
  const loaded = Date.parse("2026-11-26T11:00:00Z");
  const cold = (spec: Partial<QuerySpecInput>, through: number | null) => planQuery(resolve(spec), NOW, 90, through);

  it("answers from ClickHouse, which has dropped nothing, while the warehouse has no frontier", () => {
    for (const through of [null, 0]) {
      const p = cold({ date_range: "12mo" }, through);
      expect(p.source).toBe("clickhouse");
      expect(p.legs.length).toBeGreaterThan(0);
      expect(p.reason).toMatch(/^the range starts more than 90 days ago, but the warehouse has no loaded frontier yet/);
    }
  });

  it("a range the warehouse holds entirely: the warehouse, on its raw tables, looking back through all history", () => {
    const p = cold({ date_range: ["2025-10-01", "2025-10-31"], metrics: ["visitors", "bounce_rate"] }, loaded);
    expect(p).toMatchObject({ source: "warehouse", mode: "mixed", historyFrom: 0 });
    expect(p.legs.map((l) => l.table)).toEqual(["events", "sessions"]);
    expect(p.reason).toBe(
      "the range starts more than 90 days ago: the warehouse (loaded through 2026-11-26T11:00:00.000Z)",
    );
    const pages = cold(
      {
        date_range: ["2025-10-01", "2025-10-31"],
        dimensions: ["event:page", "visit:source"],
        metrics: ["visitors", "percentage"],
      },
      loaded,
    );
    expect(pages.legs).toEqual([
      { side: "events", table: "events", rollupDimension: null, joinSessions: true, days: null },
    ]);
    expect(pages.companions?.map((c) => [c.role, c.legs[0]?.table])).toEqual([["totals", "events"]]);
  });

  it("a range across the boundary: mixed, split where the warehouse ends", () => {
    const p = cold({ date_range: "12mo" }, loaded);
    expect(p).toMatchObject({ source: "mixed", boundary: loaded, legs: [] });
    expect(p.reason).toBe(
      "the range starts more than 90 days ago: the warehouse up to 2026-11-26T11:00:00.000Z (its frontier: every hour before it is loaded), ClickHouse after it, merged",
    );
  });

  it("a warehouse loaded only up to before the range: ClickHouse, which keeps every hour not loaded", () => {
    const p = cold({ date_range: ["2026-08-01", "2026-08-31"] }, Date.parse("2026-07-01T00:00:00Z"));
    expect(p.source).toBe("clickhouse");
    expect(p.reason).toMatch(
      /^the range starts more than 90 days ago, but the warehouse is loaded only through 2026-07-01T00:00:00.000Z: ClickHouse/,
    );
  });

  it("a range inside the hot retention never asks the warehouse, whatever it holds", () => {
    expect(cold({ date_range: "30d" }, loaded).source).toBe("clickhouse");
  });
});

describe("planQuery: modes and legs", () => {
  it.each<[string, Partial<QuerySpecInput>, string, string[]]>([
    ["no dimensions, event metrics", { metrics: ["visitors", "pageviews"] }, "mixed", ["events_rollup"]],
    ["no dimensions, session metrics", { metrics: ["visits", "bounce_rate"] }, "mixed", ["sessions_rollup"]],
    [
      "views per visit needs both sides",
      { metrics: ["views_per_visit"] },
      "mixed",
      ["events_rollup", "sessions_rollup"],
    ],
    ["pages", { dimensions: ["event:page"], metrics: ["visitors", "pageviews"] }, "event", ["events_rollup"]],
    ["pages by day", { dimensions: ["event:page", "time:day"] }, "event", ["events_rollup"]],
    ["sources", { dimensions: ["visit:source"], metrics: ["visitors", "bounce_rate"] }, "session", ["sessions_rollup"]],
    [
      "devices, both sides",
      { dimensions: ["visit:device"], metrics: ["visitors", "visits"] },
      "mixed",
      ["events_rollup", "sessions_rollup"],
    ],
    ["cities: not a rollup dimension", { dimensions: ["visit:city"] }, "mixed", ["events"]],
    ["page and source: events joined to sessions", { dimensions: ["event:page", "visit:source"] }, "event", ["events"]],
    ["two dimensions", { dimensions: ["visit:device", "visit:country"] }, "mixed", ["events"]],
    [
      "filter on the same dimension",
      { dimensions: ["event:page"], filters: [["contains", "event:page", ["/blog"]]] },
      "event",
      ["events_rollup"],
    ],
    [
      "filter on another dimension",
      { dimensions: ["event:page"], filters: [["is", "visit:device", ["mobile"]]] },
      "event",
      ["events"],
    ],
    ["acquisition filter on event metrics", { filters: [["is", "visit:source", ["Google"]]] }, "mixed", ["events"]],
    ["visitors by exit page", { dimensions: ["visit:exit_page"] }, "session", ["sessions"]],
    ["visits by exit page", { dimensions: ["visit:exit_page"], metrics: ["visits"] }, "session", ["sessions_rollup"]],
    ["props", { dimensions: ["event:props:plan"] }, "event", ["events"]],
    ["minute buckets", { dimensions: ["time:minute"], date_range: "today" }, "mixed", ["events"]],
    [
      "a goal: the goal rows",
      { filters: [["is", "event:goal", ["Signup"]]], metrics: ["visitors", "conversion_rate"] },
      "mixed",
      ["events_rollup"],
    ],
    [
      "a goal by day: the goal rows",
      { filters: [["is", "event:goal", ["Signup"]]], dimensions: ["time:day"], metrics: ["visitors", "events"] },
      "mixed",
      ["events_rollup"],
    ],
    [
      "a goal with another filter",
      {
        filters: [
          ["is", "event:goal", ["Signup"]],
          ["is", "visit:device", ["mobile"]],
        ],
        metrics: ["visitors"],
      },
      "mixed",
      ["events"],
    ],
    [
      "a goal by page",
      { filters: [["is", "event:goal", ["Signup"]]], dimensions: ["event:page"], metrics: ["visitors"] },
      "event",
      ["events"],
    ],
    [
      "a goal on visits",
      { filters: [["is", "event:goal", ["Signup"]]], metrics: ["visitors", "bounce_rate"] },
      "mixed",
      ["events_rollup", "sessions"],
    ],
    [
      "an hour-aligned time range",
      { date_range: ["2026-11-20T10:00:00Z", "2026-11-20T14:00:00Z"] },
      "mixed",
      ["events_rollup"],
    ],
    [
      "a range not on whole hours",
      { date_range: ["2026-11-20T10:30:00Z", "2026-11-20T14:00:00Z"] },
      "mixed",
      ["events"],
    ],
  ])("%s → %s %j", (_, spec, mode, legs) => {
    const p = plan(spec);
    expect(p.mode).toBe(mode);
    expect(p.legs.map((l) => l.table)).toEqual(legs);
  });

  it("uses the rollup in whole-hour zones and not in Kolkata (+05:30)", () => {
    expect(tables({ dimensions: ["time:day"] }, "Europe/Berlin")).toEqual(["events_rollup"]);
    expect(tables({ dimensions: ["time:day"] }, "America/New_York")).toEqual(["events_rollup"]);
    expect(tables({ dimensions: ["time:day"] }, "Asia/Kolkata")).toEqual(["events"]);
  });

  const DAY = 86_400_000;
  const days = (spec: Partial<QuerySpecInput>, tz?: string) => {
    const d = plan(spec, tz).legs[0]?.days;
    return d ? [new Date(d.from).toISOString().slice(0, 10), (d.to - d.from) / DAY] : null;
  };
  it.each<[string, Partial<QuerySpecInput>, string | undefined, (string | number)[] | null]>([
    ["totals over 30 days: every day daily", { date_range: ["2026-10-01", "2026-10-30"] }, "UTC", ["2026-10-01", 30]],
    [
      "a Berlin month: the UTC days inside it",
      { date_range: ["2026-10-01", "2026-10-31"] },
      "Europe/Berlin",
      ["2026-10-01", 30],
    ],
    ["days in UTC", { dimensions: ["time:day"], date_range: ["2026-10-01", "2026-10-07"] }, "UTC", ["2026-10-01", 7]],
    ["months in UTC", { dimensions: ["time:month"], date_range: "90d" }, "UTC", ["2026-08-29", 90]],
    [
      "days in Berlin need hours",
      { dimensions: ["time:day"], date_range: ["2026-10-01", "2026-10-07"] },
      "Europe/Berlin",
      null,
    ],
    ["hours need hours", { dimensions: ["time:hour"], date_range: ["2026-10-01", "2026-10-07"] }, "UTC", null],
    [
      "pages, part days at both ends",
      { dimensions: ["event:page"], date_range: ["2026-11-20T05:00:00Z", "2026-11-23T17:00:00Z"] },
      "UTC",
      ["2026-11-21", 2],
    ],
    ["less than a whole day", { date_range: ["2026-11-20T05:00:00Z", "2026-11-21T04:00:00Z"] }, "UTC", null],
    ["raw tables have no days", { dimensions: ["visit:city"], date_range: ["2026-10-01", "2026-10-07"] }, "UTC", null],
  ])("daily rows: %s", (_, spec, tz, expected) => {
    expect(days(spec, tz)).toEqual(expected);
  });

  it("says how many days and hours each rollup leg reads", () => {
    const reason = plan({
      dimensions: ["event:page"],
      date_range: ["2026-11-20T05:00:00Z", "2026-11-23T17:00:00Z"],
    }).reason;
    expect(reason).toBe("events: rollup (2 days in 1 day blocks + 36 hours hourly)");
    const byDay = plan({ dimensions: ["time:day"], date_range: ["2026-10-01", "2026-10-30"] }).reason;
    expect(byDay).toBe("events: rollup (30 days in 30 day blocks)");
    expect(plan({ date_range: ["2026-10-01", "2026-10-30"] }).reason).toBe("events: rollup (30 days in 30 day blocks)");
    expect(plan({ dimensions: ["event:page"], date_range: ["2026-10-01", "2026-10-30"] }).reason).toBe(
      "events: rollup (30 days in 5 day blocks)",
    );
  });

  it.each<[string, Partial<QuerySpecInput>, number]>([
    ["totals", { metrics: ["visitors", "visits"] }, 14],
    ["a time series", { dimensions: ["time:day"] }, 14],
    ["a breakdown", { dimensions: ["event:page"] }, 12],
    ["a breakdown by day", { dimensions: ["visit:source", "time:day"] }, 12],
    ["a filtered total", { filters: [["is", "visit:device", ["mobile"]]] }, 12],
    ["a goal alone", { filters: [["is", "event:goal", ["Signup"]]] }, 14],
  ])("visitors' sketch precision: %s → %d", (_, spec, precision) => {
    expect(sketchPrecision(resolve(spec))).toBe(precision);
  });

  it("explains itself", () => {
    expect(plan({ dimensions: ["visit:city"] }).reason).toMatch(/visit:city is not a rollup dimension/);
  });
});

describe("normaliseQuery", () => {
  it("resolves presets in the property's zone, half-open, including today", () => {
    const q = resolve({ date_range: "7d" }, "Europe/Berlin");
    expect(q.date_range).toEqual(["2026-11-19T23:00:00.000Z", "2026-11-26T23:00:00.000Z"]);
  });

  it("makes custom dates inclusive and honours DST", () => {
    const q = resolve({ date_range: ["2026-10-24", "2026-10-25"], timezone: "Europe/Berlin" });
    // 24 Oct starts at UTC+2, 26 Oct at UTC+1 (the clocks went back on the 25th).
    expect(q.date_range).toEqual(["2026-10-23T22:00:00.000Z", "2026-10-25T23:00:00.000Z"]);
  });

  it("orders by the first metric, then the dimensions, unless told", () => {
    expect(resolve({ dimensions: ["event:page"] }).order_by).toEqual([
      ["visitors", "desc"],
      ["event:page", "asc"],
    ]);
    expect(resolve({ dimensions: ["time:day"] }).order_by).toEqual([["time:day", "asc"]]);
  });

  it.each<[string, Partial<QuerySpecInput>, RegExp]>([
    [
      "session metric by page",
      { metrics: ["bounce_rate"], dimensions: ["event:page"] },
      /bounce_rate .* cannot be broken down by event:page/,
    ],
    ["conversion rate without a goal", { metrics: ["conversion_rate"] }, /conversion_rate needs a goal filter/],
    [
      "unknown goal",
      { filters: [["is", "event:goal", ["Nope"]]] },
      /goal "Nope" does not exist; this property's goals: Signup/,
    ],
    ["goal inside or", { filters: [["or", [["is", "event:goal", ["Signup"]]]]] }, /top-level/],
    ["bad zone", { timezone: "Mars/Olympus" }, /timezone: Mars\/Olympus is not an IANA time zone/],
    ["reversed dates", { date_range: ["2026-11-05", "2026-11-01"] }, /end date is before the start/],
    ["impossible date", { date_range: ["2026-02-30", "2026-03-01"] }, /2026-02-30 is not a calendar date/],
    ["minutes over 30 days", { dimensions: ["time:minute"], date_range: "30d" }, /more than 5000 buckets/],
  ])("refuses %s", (_, spec, message) => {
    expect(() => resolve(spec)).toThrow(message);
  });
});

describe("QuerySpecSchema: errors name the field and the allowed values", () => {
  const issues = (body: unknown) => {
    const r = QuerySpecSchema.safeParse(body);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
  };
  it.each<[string, unknown, RegExp]>([
    [
      "unknown metric",
      { property_id: "UA-1-1", metrics: ["hits"] },
      /metrics\.0: "hits" is not a metric; allowed: visitors, visits/,
    ],
    [
      "unknown dimension",
      { property_id: "UA-1-1", metrics: ["visitors"], dimensions: ["visit:planet"] },
      /dimensions\.0: "visit:planet" is not a dimension; allowed: event:page/,
    ],
    [
      "unknown operator",
      { property_id: "UA-1-1", metrics: ["visitors"], filters: [["like", "event:page", ["/"]]] },
      /filters\.0\.0: "like" is not an operator; allowed: is, is_not/,
    ],
    [
      "filter on time",
      { property_id: "UA-1-1", metrics: ["visitors"], filters: [["is", "time:day", ["x"]]] },
      /filters\.0\.1: "time:day" cannot be filtered on/,
    ],
    [
      "empty values",
      { property_id: "UA-1-1", metrics: ["visitors"], filters: [["is", "event:page", []]] },
      /filters\.0\.2: must be a list of 1 to 100 strings/,
    ],
    [
      "RE2-incompatible regex",
      { property_id: "UA-1-1", metrics: ["visitors"], filters: [["matches", "event:page", ["(?=x)"]]] },
      /filters\.0\.2\.0: uses lookaround/,
    ],
    [
      "nested and",
      { property_id: "UA-1-1", metrics: ["visitors"], filters: [["and", [["is", "nope", ["x"]]]]] },
      /filters\.0\.1\.0\.1: "nope" cannot be filtered on/,
    ],
    [
      "bad date range",
      { property_id: "UA-1-1", metrics: ["visitors"], date_range: "last week" },
      /date_range: must be one of realtime, today/,
    ],
    [
      "order by something not queried",
      { property_id: "UA-1-1", metrics: ["visitors"], order_by: [["pageviews", "desc"]] },
      /order_by\.0\.0: "pageviews" is neither/,
    ],
    ["unknown field", { property_id: "UA-1-1", metrics: ["visitors"], site_id: "x" }, /Unrecognized key/],
  ])("%s", (_, body, message) => {
    expect(issues(body).join("\n")).toMatch(message);
  });
});
