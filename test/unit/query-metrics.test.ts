/**
 * The Plausible-parity metrics (issue #15) before any SQL runs: which dimensions and filters each
 * needs (a 400 naming the field and why otherwise), the revenue currency a query resolves to, the
 * visitor-type filter's values, and where the planner sends each metric and says why.
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.ts";
import { liveRows } from "../../core/query/live.ts";
import { type GoalRef, normaliseQuery, publicQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import { planQuery } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";

const NOW = Date.parse("2026-11-26T12:34:56.789Z");
const GOALS: GoalRef[] = [{ name: "Signup", kind: "event", event_name: "signup" }];

function resolve(spec: Partial<QuerySpecInput>, propertyCurrency?: string): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({ property_id: "UA-1-1", metrics: ["visitors"], ...spec });
  return normaliseQuery(parsed, {
    propertyTimezone: "UTC",
    createdAt: NOW - 400 * 86_400_000,
    now: NOW,
    goals: GOALS,
    ...(propertyCurrency ? { propertyCurrency } : {}),
  });
}

function refusal(spec: Partial<QuerySpecInput>): string {
  try {
    resolve(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
    return (error as AppError).message;
  }
  throw new Error("expected a 400");
}

const goal: QuerySpecInput["filters"] = [["is", "event:goal", ["Signup"]]];

describe("validity: each metric where Plausible allows it, a 400 naming the field otherwise", () => {
  it.each<[string, Partial<QuerySpecInput>, RegExp]>([
    [
      "percentage without a dimension",
      { metrics: ["percentage"] },
      /^metrics: percentage .*needs at least one dimension/,
    ],
    [
      "group_conversion_rate without a goal",
      { metrics: ["group_conversion_rate"] },
      /^metrics: group_conversion_rate needs a goal filter/,
    ],
    [
      "exit_rate without a dimension",
      { metrics: ["exit_rate"] },
      /^metrics: exit_rate needs exactly one dimension, "visit:exit_page"/,
    ],
    [
      "exit_rate by page",
      { metrics: ["exit_rate"], dimensions: ["event:page"] },
      /^metrics: exit_rate needs exactly one dimension/,
    ],
    [
      "exit_rate with a second dimension",
      { metrics: ["exit_rate"], dimensions: ["visit:exit_page", "time:day"] },
      /^metrics: exit_rate needs exactly one dimension/,
    ],
    [
      "exit_rate with an event filter",
      { metrics: ["exit_rate"], dimensions: ["visit:exit_page"], filters: [["is", "event:page", ["/"]]] },
      /^metrics: exit_rate cannot be asked with a filter on event:page/,
    ],
    [
      "exit_rate with a goal",
      { metrics: ["exit_rate"], dimensions: ["visit:exit_page"], filters: goal },
      /^metrics: exit_rate cannot be asked with a filter on event:goal/,
    ],
    [
      "time_on_page without a page",
      { metrics: ["time_on_page"] },
      /^metrics: time_on_page is measured per page and needs an event:page dimension or filter/,
    ],
    [
      "scroll_depth by source alone",
      { metrics: ["scroll_depth"], dimensions: ["visit:source"] },
      /^metrics: scroll_depth is measured per page/,
    ],
  ])("%s", (_, spec, message) => {
    expect(refusal(spec)).toMatch(message);
  });

  it.each<[string, Partial<QuerySpecInput>]>([
    ["percentage by country", { metrics: ["visitors", "percentage"], dimensions: ["visit:country"] }],
    ["group_conversion_rate with a goal", { metrics: ["group_conversion_rate"], filters: goal }],
    [
      "exit_rate by exit page, with a visit filter",
      { metrics: ["exit_rate"], dimensions: ["visit:exit_page"], filters: [["is", "visit:device", ["mobile"]]] },
    ],
    ["time_on_page by page", { metrics: ["time_on_page"], dimensions: ["event:page"] }],
    [
      "scroll_depth with a page filter, by day",
      { metrics: ["scroll_depth"], dimensions: ["time:day"], filters: [["contains", "event:page", ["/blog"]]] },
    ],
    ["revenue with no goal", { metrics: ["total_revenue", "average_revenue"] }],
  ])("accepts %s", (_, spec) => {
    expect(() => resolve(spec)).not.toThrow();
  });
});

describe("revenue currency", () => {
  it("is the property's by default, the query's when it names one, and absent without revenue", () => {
    expect(resolve({ metrics: ["total_revenue"] }).include.currency).toBe("USD");
    expect(resolve({ metrics: ["total_revenue"] }, "EUR").include.currency).toBe("EUR");
    expect(resolve({ metrics: ["average_revenue"], include: { currency: "JPY" } }, "EUR").include.currency).toBe("JPY");
    expect(publicQuery(resolve({ metrics: ["visitors"] })).include).toEqual({ bots: false, total_rows: false });
  });

  it("refuses a currency that is not an ISO 4217 code, naming the field", () => {
    const parsed = QuerySpecSchema.safeParse({
      property_id: "UA-1-1",
      metrics: ["total_revenue"],
      include: { currency: "usd" },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(["include", "currency"]);
    expect(
      QuerySpecSchema.safeParse({ property_id: "UA-1-1", metrics: ["total_revenue"], include: { currency: "EUX" } })
        .success,
    ).toBe(false);
  });
});

describe("visit:visitor_type filters", () => {
  it.each<[unknown, (string | number)[]]>([
    [
      ["is", "visit:visitor_type", ["old"]],
      ["filters", 0, 2, 0],
    ],
    [
      ["contains", "visit:visitor_type", ["new"]],
      ["filters", 0, 0],
    ],
  ])("refuses %j at its position", (filter, path) => {
    const parsed = QuerySpecSchema.safeParse({ property_id: "UA-1-1", metrics: ["visits"], filters: [filter] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(path);
  });
});

describe("planning the new metrics", () => {
  const plan = (spec: Partial<QuerySpecInput>) => planQuery(resolve(spec), NOW, 90);

  it.each<[string, Partial<QuerySpecInput>, string[], RegExp]>([
    [
      "revenue: raw events",
      { metrics: ["total_revenue"], date_range: "7d" },
      ["events"],
      /events: raw \(total_revenue needs raw events\)/,
    ],
    [
      "time on page: raw events",
      { metrics: ["time_on_page"], dimensions: ["event:page"], date_range: "7d" },
      ["events"],
      /time_on_page needs raw events/,
    ],
    [
      "revenue by source: events joined to their sessions",
      { metrics: ["visits", "total_revenue"], dimensions: ["visit:source"], date_range: "7d" },
      ["sessions_rollup", "events"],
      /sessions: rollup .*; events: raw/,
    ],
    [
      "new / returning: raw sessions",
      { metrics: ["visits"], dimensions: ["visit:visitor_type"], date_range: "7d" },
      ["sessions"],
      /visit:visitor_type is not a rollup dimension/,
    ],
    [
      "percentage by page: the rollups, with a totals companion",
      { metrics: ["visitors", "percentage"], dimensions: ["event:page"], date_range: "7d" },
      ["events_rollup"],
      /totals: events: rollup/,
    ],
    [
      "exit rate: exits and the pages' views, both from rollups",
      { metrics: ["exit_rate"], dimensions: ["visit:exit_page"], date_range: "7d" },
      ["sessions_rollup"],
      /exit_pages: events: rollup/,
    ],
  ])("%s", (_, spec, tables, reason) => {
    const p = plan(spec);
    expect(p.legs.map((l) => l.table)).toEqual(tables);
    expect(p.reason).toMatch(reason);
  });

  it("realtime: the new metrics go to ClickHouse, and meta.plan says why", () => {
    const p = plan({ metrics: ["pageviews", "percentage"], dimensions: ["event:page"], date_range: "realtime" });
    expect(p.source).toBe("clickhouse");
    expect(p.reason).toMatch(/^not live: percentage is not kept in the actor's minute windows; /);
  });

  it("builds visitor types from the sessions of the hot retention, values as parameters", () => {
    const q = resolve({ metrics: ["visits"], dimensions: ["visit:visitor_type"], date_range: "7d" });
    const built = buildQuerySql(q, planQuery(q, NOW, 90));
    expect(built.sql).toContain("if(opened_at > first_opened, 'returning', 'new') AS visitor_type");
    expect(Object.values(built.params)).toContain(NOW - 90 * 86_400_000);
  });

  it("the live windows refuse a metric they do not keep rather than answer zeros", () => {
    const q = resolve({ metrics: ["visitors", "total_revenue"], date_range: "realtime" });
    expect(() => liveRows(q, [])).toThrow(/^metrics: total_revenue is not kept in the live minute windows/);
    const pages = resolve({ metrics: ["pageviews", "percentage"], dimensions: ["event:page"], date_range: "realtime" });
    expect(() => liveRows(pages, [])).toThrow(/percentage is not kept/);
  });
});
