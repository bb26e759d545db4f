/** A range across the warehouse's boundary: the part questions each store answers, and their merge (core/query/merge.ts). */
import { describe, expect, it } from "vitest";
import { mergeAnswers, mixedParts, splitAt } from "../../core/query/merge.ts";
import { type GoalRef, normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import type { Shaped } from "../../core/query/shape.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { MAX_PART_ROWS } from "../../core/query/warehouse-parts.ts";

const NOW = Date.parse("2026-11-26T12:34:56Z");
const GOALS: GoalRef[] = [{ name: "Signup", kind: "event", event_name: "signup" }];

function resolve(spec: Partial<QuerySpecInput>): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({ property_id: "UA-1-1", date_range: ["2026-11-20", "2026-11-26"], ...spec });
  return normaliseQuery(parsed, { propertyTimezone: "UTC", createdAt: NOW - 400 * 86_400_000, now: NOW, goals: GOALS });
}

const answer = (rows: [string[], number[]][], other_currencies?: string[]): Shaped => ({
  results: rows.map(([dimensions, metrics]) => ({ dimensions, metrics })),
  total_rows: undefined,
  other_currencies,
});

describe("mixedParts: what each store is asked", () => {
  it("asks ratios as their parts, every row, and the denominators each ratio needs", () => {
    const q = resolve({
      metrics: ["visitors", "bounce_rate", "views_per_visit", "percentage", "average_revenue"],
      dimensions: ["visit:source"],
      limit: 5,
      offset: 10,
    });
    const parts = mixedParts(q);
    expect(parts.map((p) => p.role)).toEqual(["main", "totals"]);
    const [main, totals] = parts.map((p) => p.query);
    expect(main?.metrics).toEqual([
      "visitors",
      "bounce_rate",
      "visits",
      "pageviews",
      "average_revenue",
      "total_revenue",
    ]);
    expect(main).toMatchObject({ limit: MAX_PART_ROWS, offset: 0, compare: null, order_by: [["visit:source", "asc"]] });
    expect(totals).toMatchObject({ metrics: ["visitors"], dimensions: [] });
  });

  it("conversion rates divide by visitors without the goal; exit rate by page views; engagement by engaged visits", () => {
    const goal = resolve({
      metrics: ["visitors", "conversion_rate", "group_conversion_rate"],
      dimensions: ["visit:source"],
      filters: [
        ["is", "visit:device", ["mobile"]],
        ["is", "event:goal", ["Signup"]],
      ],
    });
    const [main, convTotals, convRows] = mixedParts(goal);
    expect(main?.query.goals).toEqual(GOALS);
    expect(convTotals).toMatchObject({
      role: "conv_totals",
      query: { dimensions: [], goals: [], metrics: ["visitors"] },
    });
    expect(convTotals?.query.filters).toEqual([["is", "visit:device", ["mobile"]]]);
    expect(convRows).toMatchObject({ role: "conv_rows", query: { dimensions: ["visit:source"], goals: [] } });
    const exits = mixedParts(resolve({ metrics: ["exit_rate"], dimensions: ["visit:exit_page"] }));
    expect(exits[1]).toMatchObject({
      role: "exit_pages",
      query: { metrics: ["pageviews"], dimensions: ["event:page"] },
    });
    const engaged = mixedParts(resolve({ metrics: ["time_on_page"], dimensions: ["event:page"] }));
    expect(engaged[1]).toMatchObject({ role: "engaged", query: { metrics: ["visits"] } });
    expect(engaged[1]?.query.filters).toEqual([["is", "event:name", ["engagement"]]]);
  });

  it("splits the range at the boundary", () => {
    const q = resolve({ metrics: ["visitors"] });
    const boundary = Date.parse("2026-11-25T11:00:00Z");
    const [old, recent] = splitAt(q, boundary);
    expect([old.from, old.to, recent.from, recent.to]).toEqual([q.from, boundary, boundary, q.to]);
    expect(recent.date_range).toEqual(["2026-11-25T11:00:00.000Z", "2026-11-27T00:00:00.000Z"]);
  });
});

describe("mergeAnswers: rows matched by their dimensions, counts summed, ratios recomputed", () => {
  it("sums counts and weighs ratios by what they divide by", () => {
    const q = resolve({
      metrics: ["visitors", "bounce_rate", "views_per_visit", "percentage"],
      dimensions: ["visit:source"],
    });
    const parts = mixedParts(q); // main: visitors, bounce_rate, visits, pageviews; totals: visitors
    const warehouse = [
      answer([
        [["Google"], [10, 0.5, 20, 40]],
        [["Direct"], [5, 1, 5, 5]],
      ]),
      answer([[[], [15]]]),
    ];
    const clickhouse = [answer([[["Google"], [2, 0, 4, 4]]]), answer([[[], [2]]])];
    const merged = mergeAnswers(q, parts, [warehouse, clickhouse]);
    expect(merged.results).toEqual([
      // (0.5 × 20 + 0 × 4) / 24 visits; 44 pageviews / 24 visits; 12 of 17 visitors.
      { dimensions: ["Google"], metrics: [12, 0.4167, 1.83, 0.7059] },
      { dimensions: ["Direct"], metrics: [5, 1, 1, 0.2941] },
    ]);
    expect(merged.total_rows).toBeUndefined();
  });

  it("a time bucket across the boundary gets both halves; the series is gap-filled, ordered and paged after the merge", () => {
    const q = resolve({ metrics: ["visitors", "avg_session_duration"], dimensions: ["time:day"] });
    const parts = mixedParts(q); // main: visitors, avg_session_duration, visits
    const merged = mergeAnswers(q, parts, [
      [
        answer([
          [["2026-11-21"], [3, 100, 4]],
          [["2026-11-25"], [1, 30, 1]],
        ]),
      ],
      [
        answer([
          [["2026-11-25"], [2, 60, 2]],
          [["2026-11-26"], [7, 10, 8]],
        ]),
      ],
    ]);
    expect(merged.results.map((r) => r.dimensions[0])).toEqual([
      "2026-11-20",
      "2026-11-21",
      "2026-11-22",
      "2026-11-23",
      "2026-11-24",
      "2026-11-25",
      "2026-11-26",
    ]);
    expect(merged.results[5]?.metrics).toEqual([3, 50]); // (30 × 1 + 60 × 2) / 3
    expect(merged.results[0]?.metrics).toEqual([0, 0]);
    const paged = mergeAnswers(
      { ...resolve({ metrics: ["visitors"], dimensions: ["visit:country"], limit: 1, offset: 1 }) },
      mixedParts(resolve({ metrics: ["visitors"], dimensions: ["visit:country"] })),
      [
        [
          answer([
            [["DE"], [10]],
            [["US"], [8]],
            [["FR"], [1]],
          ]),
        ],
        [answer([[["FR"], [12]]])],
      ],
    );
    // FR leads only once both sides are summed: paging happens after the merge.
    expect(paged.results).toEqual([{ dimensions: ["DE"], metrics: [10] }]);
  });

  it("conversion rates, exit rate, revenue and engagement from their merged parts", () => {
    const goal = resolve({
      metrics: ["visitors", "conversion_rate", "group_conversion_rate"],
      dimensions: ["visit:source"],
      filters: [["is", "event:goal", ["Signup"]]],
    });
    const converted = mergeAnswers(goal, mixedParts(goal), [
      [answer([[["Google"], [3]]]), answer([[[], [40]]]), answer([[["Google"], [10]]])],
      [answer([[["Google"], [1]]]), answer([[[], [10]]]), answer([[["Google"], [10]]])],
    ]);
    expect(converted.results).toEqual([{ dimensions: ["Google"], metrics: [4, 0.08, 0.2] }]);

    const exits = resolve({ metrics: ["exit_rate"], dimensions: ["visit:exit_page"] });
    const exitRate = mergeAnswers(exits, mixedParts(exits), [
      [
        answer([[["/a"], [3]]]),
        answer([
          [["/a"], [10]],
          [["/b"], [5]],
        ]),
      ],
      [answer([[["/a"], [1]]]), answer([[["/a"], [6]]])],
    ]);
    expect(exitRate.results).toEqual([{ dimensions: ["/a"], metrics: [0.25] }]);

    const money = resolve({
      metrics: ["total_revenue", "average_revenue", "time_on_page"],
      dimensions: ["event:page"],
    });
    const revenue = mergeAnswers(money, mixedParts(money), [
      // main: total_revenue, average_revenue, time_on_page; engaged: visits
      [answer([[["/"], [100, 25, 30]]], ["EUR"]), answer([[["/"], [3]]])],
      [answer([[["/"], [20, 20, 10]]], ["GBP", "EUR"]), answer([[["/"], [1]]])],
    ]);
    // 120 over 4 + 1 purchases; (30 × 3 + 10 × 1) / 4 engaged visits.
    expect(revenue.results).toEqual([{ dimensions: ["/"], metrics: [120, 24, 25] }]);
    expect(revenue.other_currencies).toEqual(["EUR", "GBP"]);
  });
});
