/**
 * The pure halves of core/query/funnel.ts and core/query/retention.ts: input schemas, parameters
 * instead of values in SQL, path patterns, and shaping rows into reports. The SQL itself is
 * proved against the engine in test/integration/funnel-retention.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  buildFunnelSql,
  type FunnelSpec,
  FunnelSpecSchema,
  FunnelStepSchema,
  shapeFunnel,
} from "../../core/query/funnel.ts";
import { buildRetentionSql, RetentionQuerySchema, shapeRetention } from "../../core/query/retention.ts";

const spec = (...values: string[]): FunnelSpec =>
  FunnelSpecSchema.parse({ steps: values.map((value) => ({ kind: "page", value })) });

const range = { property_id: "UA-12345-1", from_ms: Date.UTC(2026, 10, 1), to_ms: Date.UTC(2026, 10, 8) };

describe("FunnelSpecSchema", () => {
  it("defaults the window to one day", () => {
    expect(spec("/", "/pricing").window_seconds).toBe(86_400);
  });

  it("takes 2 to 8 steps", () => {
    const steps = (n: number) => Array.from({ length: n }, () => ({ kind: "event", value: "e" }));
    expect(FunnelSpecSchema.safeParse({ steps: steps(1) }).success).toBe(false);
    expect(FunnelSpecSchema.safeParse({ steps: steps(2) }).success).toBe(true);
    expect(FunnelSpecSchema.safeParse({ steps: steps(8) }).success).toBe(true);
    expect(FunnelSpecSchema.safeParse({ steps: steps(9) }).success).toBe(false);
  });

  it("refuses a window beyond 90 days, a fractional one, and unknown fields", () => {
    const steps = [
      { kind: "page", value: "/" },
      { kind: "page", value: "/a" },
    ];
    expect(FunnelSpecSchema.safeParse({ steps, window_seconds: 90 * 86_400 }).success).toBe(true);
    expect(FunnelSpecSchema.safeParse({ steps, window_seconds: 90 * 86_400 + 1 }).success).toBe(false);
    expect(FunnelSpecSchema.safeParse({ steps, window_seconds: 1.5 }).success).toBe(false);
    expect(FunnelSpecSchema.safeParse({ steps, window: 60 }).success).toBe(false);
  });

  it("refuses a page step that is not a path, and empty or oversized values", () => {
    expect(FunnelStepSchema.safeParse({ kind: "page", value: "pricing" }).success).toBe(false);
    expect(FunnelStepSchema.safeParse({ kind: "event", value: "pricing" }).success).toBe(true);
    expect(FunnelStepSchema.safeParse({ kind: "event", value: "" }).success).toBe(false);
    expect(FunnelStepSchema.safeParse({ kind: "event", value: "x".repeat(501) }).success).toBe(false);
    expect(FunnelStepSchema.safeParse({ kind: "goal", value: "/" }).success).toBe(false);
  });
});

describe("buildFunnelSql", () => {
  it("puts every value in parameters, never in the SQL text", () => {
    const hostile = "x' OR 1=1 --";
    const { sql, params } = buildFunnelSql({
      ...range,
      include_bots: false,
      spec: FunnelSpecSchema.parse({
        steps: [
          { kind: "page", value: `/${hostile}` },
          { kind: "event", value: hostile },
        ],
        window_seconds: 600,
      }),
    });
    expect(sql).not.toContain(hostile);
    expect(sql).not.toContain("UA-12345-1");
    expect(sql).toContain("windowFunnel({window_ms:UInt64}, 'strict_once')");
    expect(params).toMatchObject({
      property_id: "UA-12345-1",
      from: "2026-11-01 00:00:00.000",
      to: "2026-11-08 00:00:00.000",
      window_ms: 600_000,
      step_2: hostile,
    });
  });

  it("counts one column per step and leaves bots out unless asked", () => {
    const four = spec("/a", "/b", "/c", "/d");
    const without = buildFunnelSql({ ...range, include_bots: false, spec: four }).sql;
    const withBots = buildFunnelSql({ ...range, include_bots: true, spec: four }).sql;
    expect(without).toContain("countIf(level >= 4) AS step_4");
    expect(without).not.toContain("step_5");
    expect(without).toContain("NOT is_bot");
    expect(withBots).not.toContain("is_bot");
  });

  it("requires a pageview for page steps and only the name for event steps", () => {
    const { sql } = buildFunnelSql({
      ...range,
      include_bots: false,
      spec: FunnelSpecSchema.parse({
        steps: [
          { kind: "page", value: "/" },
          { kind: "event", value: "signup" },
        ],
      }),
    });
    expect(sql).toContain("(event_type = {pageview:String} AND page_path = {step_1:String})");
    expect(sql).toContain("event_type = {step_2:String})");
  });

  it("matches a page step with wildcards by regex and compares one without", () => {
    const { sql } = buildFunnelSql({ ...range, include_bots: false, spec: spec("/blog/**", "/pricing") });
    expect(sql).toContain("(event_type = {pageview:String} AND match(page_path, {step_1:String}))");
    expect(sql).toContain("(event_type = {pageview:String} AND page_path = {step_2:String})");
  });

  it("groups by the visitor id's stored hash", () => {
    const { sql } = buildFunnelSql({ ...range, include_bots: false, spec: spec("/", "/pricing") });
    expect(sql).toContain("SELECT visitor_hash AS visitor,");
    expect(sql).toContain("GROUP BY visitor");
  });
});

describe("page patterns", () => {
  const built = (pattern: string) => buildFunnelSql({ ...range, include_bots: false, spec: spec(pattern, "/") });
  const regexOf = (pattern: string) => String(built(pattern).params.step_1);
  /** Whether step 1 takes `path`: by equality when the step compares, by its regex when it matches. */
  const takes = (pattern: string, path: string) =>
    built(pattern).sql.includes("page_path = {step_1:String}")
      ? regexOf(pattern) === path
      : new RegExp(regexOf(pattern)).test(path);
  const cases: Array<[pattern: string, path: string, matches: boolean]> = [
    ["/pricing", "/pricing", true],
    ["/pricing", "/pricing/", false],
    ["/pricing", "/x/pricing", false],
    ["/blog/*", "/blog/post", true],
    ["/blog/*", "/blog/", true],
    ["/blog/*", "/blog/a/b", false],
    ["/blog/**", "/blog/a/b", true],
    ["/blog/**", "/blog", false],
    ["/*/settings", "/team/settings", true],
    ["/*/settings", "/a/b/settings", false],
    ["/**/settings", "/a/b/settings", true],
    ["/v1.0", "/v1x0", false],
    ["/a+b(c)?[x]{2}|^$", "/a+b(c)?[x]{2}|^$", true],
    ["/a+b(c)?[x]{2}|^$", "/aabcxx", false],
    ["/c:\\d", "/c:\\d", true],
    ["/c:\\d", "/c:1", false],
  ];
  it.each(cases)("%s on %s: %s", (pattern, path, matches) => {
    // RE2 and JavaScript agree on this subset (anchors, classes, escapes); the engine test covers RE2.
    expect(takes(pattern, path)).toBe(matches);
  });

  it("turns wildcards into segment and any-depth matches", () => {
    expect(regexOf("/a/*/b/**")).toBe("^/a/[^/]*/b/.*$");
    expect(regexOf("/a.b/*")).toBe("^/a\\.b/[^/]*$");
    expect(regexOf("/a.b")).toBe("/a.b");
  });
});

describe("shapeFunnel", () => {
  const three = FunnelSpecSchema.parse({
    steps: [
      { kind: "page", value: "/", label: "Landing" },
      { kind: "page", value: "/pricing" },
      { kind: "event", value: "signup" },
    ],
  });

  it("reports visitors, conversion from step 1 and drop-off from the previous step", () => {
    // ClickHouse sends UInt64 counts as strings.
    expect(shapeFunnel(three, [{ step_1: "200", step_2: "50", step_3: "10" }])).toEqual({
      steps: [
        { step: 1, label: "Landing", visitors: 200, conversion_rate: 1, drop_off: 0, drop_off_rate: 0 },
        { step: 2, label: "/pricing", visitors: 50, conversion_rate: 0.25, drop_off: 150, drop_off_rate: 0.75 },
        { step: 3, label: "signup", visitors: 10, conversion_rate: 0.05, drop_off: 40, drop_off_rate: 0.8 },
      ],
    });
  });

  it("answers zeros, not NaN, when nobody entered", () => {
    for (const rows of [[{ step_1: "0", step_2: "0", step_3: "0" }], []]) {
      expect(shapeFunnel(three, rows).steps.map((s) => [s.visitors, s.conversion_rate, s.drop_off_rate])).toEqual([
        [0, 0, 0],
        [0, 0, 0],
        [0, 0, 0],
      ]);
    }
  });
});

describe("RetentionQuerySchema and buildRetentionSql", () => {
  const query = { ...range, include_bots: false, timezone: "Europe/Berlin" };

  it("defaults to 8 later weeks and allows at most 26", () => {
    expect(RetentionQuerySchema.parse(query).weeks).toBe(8);
    expect(RetentionQuerySchema.safeParse({ ...query, weeks: 26 }).success).toBe(true);
    expect(RetentionQuerySchema.safeParse({ ...query, weeks: 27 }).success).toBe(false);
  });

  it("refuses an unknown time zone and an empty range", () => {
    expect(RetentionQuerySchema.safeParse({ ...query, timezone: "Mars/Olympus" }).success).toBe(false);
    expect(RetentionQuerySchema.safeParse({ ...query, to_ms: query.from_ms }).success).toBe(false);
  });

  it("puts every value in parameters, the last instant of the range included", () => {
    const { sql, params } = buildRetentionSql(query);
    expect(sql).not.toContain("Europe/Berlin");
    expect(sql).not.toContain("UA-12345-1");
    expect(sql).toContain("NOT is_bot");
    expect(buildRetentionSql({ ...query, include_bots: true }).sql).not.toContain("is_bot");
    expect(params).toMatchObject({
      timezone: "Europe/Berlin",
      weeks: 8,
      to: "2026-11-08 00:00:00.000",
      last: "2026-11-07 23:59:59.999",
    });
  });
});

describe("shapeRetention", () => {
  it("turns rows into cohorts, oldest first, with each later week's share of week 0", () => {
    const rows = [
      { cohort: "2026-11-09", week_offset: 0, visitors: "4", observed_weeks: 1 },
      { cohort: "2026-11-09", week_offset: 1, visitors: "1", observed_weeks: 1 },
      { cohort: "2026-11-02", week_offset: 0, visitors: "10", observed_weeks: 2 },
      { cohort: "2026-11-02", week_offset: 2, visitors: "3", observed_weeks: 2 },
    ];
    expect(shapeRetention(rows, 8)).toEqual({
      cohorts: [
        { cohort: "2026-11-02", visitors: 10, retention: [1, 0, 0.3] },
        { cohort: "2026-11-09", visitors: 4, retention: [1, 0.25] },
      ],
    });
  });

  it("stops at the requested number of weeks even when more were observed", () => {
    const rows = [{ cohort: "2026-11-02", week_offset: 0, visitors: "5", observed_weeks: 20 }];
    expect(shapeRetention(rows, 3).cohorts[0]?.retention).toEqual([1, 0, 0, 0]);
  });

  it("answers no cohorts for no rows", () => {
    expect(shapeRetention([], 8)).toEqual({ cohorts: [] });
  });
});
