/**
 * The production sizing model (bench/sizing-model.ts): each setting is the smallest that keeps its
 * platform limit, costs follow from the cost model's lines, and limits are reported, not hidden.
 */
import { describe, expect, it } from "vitest";
import { PRICE, priceLines, zipfWeights } from "../../bench/cost-model.ts";
import {
  ASSUMPTIONS,
  clickhouseRowsPerEvent,
  hourlyJobsCapacity,
  LIMITS,
  MIX,
  type Sizing,
  size,
} from "../../bench/sizing-model.ts";
import { ConfigSchema } from "../../core/config.ts";

const capacity = LIMITS.queueMessagesPerSecond * LIMITS.queueUse;
const biggest = zipfWeights(ASSUMPTIONS.properties)[0] ?? 0;
const line = (s: Sizing, name: string) => s.lines.find(([n]) => n.startsWith(name)) ?? ["", 0, 0];

describe("the sizing model", () => {
  it("fits ClickHouse's rows per event through the two measured points, falling as inserts grow", () => {
    expect(clickhouseRowsPerEvent(375)).toBeCloseTo(33.0, 6);
    expect(clickhouseRowsPerEvent(9_100)).toBeCloseTo(10.0, 6);
    expect(clickhouseRowsPerEvent(50_000)).toBeLessThan(clickhouseRowsPerEvent(3_000));
  });

  it("gives each queue shard the fewest ingest actors a location that keep its busiest under 1,000 requests/s", () => {
    for (const rate of [1_000, 100_000, 500_000]) {
      const s = size(rate);
      // An actor packs one queue shard (core/ingest/ingest-route.ts): INGEST_SHARDS is sized by the
      // busiest location's requests on the hottest shard, the biggest property's and its share of the rest.
      const hottest = biggest + (1 - biggest) / s.queueShards;
      expect(s.busiestShardRequests).toBeCloseTo(s.busiestLocationRequests * hottest, 6);
      expect(s.busiestShardRequests / s.ingestShards).toBeLessThanOrEqual(LIMITS.actorRequestsPerSecond);
      if (s.ingestShards > 1)
        expect(s.busiestShardRequests / (s.ingestShards - 1)).toBeGreaterThan(LIMITS.actorRequestsPerSecond);
    }
  });

  it("uses one queue while it carries the traffic, and more only when one cannot", () => {
    const small = size(1_000);
    expect(small.queueShards).toBe(1);
    expect(small.hottestQueueMessages).toBeLessThanOrEqual(capacity);
    const big = size(100_000);
    expect(big.queueShards).toBeGreaterThan(1);
    // Every queue but the biggest property's stays under the plan.
    const others = (big.messagesPerSecond - big.hottestQueueMessages) / (big.queueShards - 1);
    expect(others).toBeLessThanOrEqual(capacity);
    // With an actor per queue shard its window is not split over the queues: the biggest
    // property's queue fits one at 100K events/s.
    expect(big.hottestQueueMessages).toBeLessThanOrEqual(capacity);
    expect(big.limits.some((l) => l.includes("queue"))).toBe(false);
  });

  it("reports the biggest property outgrowing one queue instead of sizing past it silently", () => {
    const s = size(500_000);
    expect(s.hottestQueueMessages).toBeGreaterThan(capacity);
    expect(s.limits.some((l) => l.includes("biggest property's queue"))).toBe(true);
    expect(size(1_000).limits.some((l) => l.includes("queue"))).toBe(false);
  });

  it("labels the biggest property with its share of the cost model's traffic", () => {
    expect((size(100_000).biggestPropertyEvents / 100_000) * 100).toBeCloseTo(17.9, 1);
  });

  it("gives the biggest property session actors of ≤ 1,000 events/s each", () => {
    for (const rate of [1_000, 100_000, 500_000]) {
      const s = size(rate);
      expect(s.biggestPropertyEvents / s.sessionShards).toBeLessThanOrEqual(ASSUMPTIONS.sessionActorEventsPerSecond);
    }
    expect(size(1_000).sessionShards).toBe(1);
  });

  it("reports nothing past a limit for a small site, and the hourly jobs' ceilings above them", () => {
    expect(size(50).limits).toEqual([]);
    const { compaction, warehouse } = hourlyJobsCapacity();
    // The runbook's smallest size fits both hourly runs; just past either, its limit is reported.
    expect(size(1_000).limits).toEqual([]);
    expect(size(Math.ceil(warehouse) + 1).limits.join("\n")).toContain("warehouse's hourly load");
    expect(size(Math.ceil(warehouse) + 1).limits.join("\n")).not.toContain("compaction");
    expect(size(Math.ceil(compaction) + 1).limits.join("\n")).toContain("compaction's");
  });

  it("takes the hourly jobs' budgets from the Worker's configuration defaults (the environments' values)", () => {
    const defaults = ConfigSchema.parse({ CLICKHOUSE_URL: "https://ch.test" });
    const COMPACTION_BUDGET_MS = defaults.COMPACTION_BUDGET_SECONDS * 1000;
    const WAREHOUSE_BUDGET_MS = defaults.WAREHOUSE_BUDGET_SECONDS * 1000;
    expect(ASSUMPTIONS.compactionBudgetSeconds * 1000).toBe(COMPACTION_BUDGET_MS);
    expect(ASSUMPTIONS.warehouseBudgetSeconds * 1000).toBe(WAREHOUSE_BUDGET_MS);
    const { compaction, warehouse } = hourlyJobsCapacity();
    expect(compaction).toBeCloseTo((ASSUMPTIONS.compactionRowsPerSecond * COMPACTION_BUDGET_MS) / 1000 / 3600, 6);
    expect(warehouse).toBeCloseTo((ASSUMPTIONS.warehouseRowsPerSecond * WAREHOUSE_BUDGET_MS) / 1000 / 3600, 6);
  });

  it("keeps the cost model's per-event lines and re-prices the per-second ones at each rate", () => {
    const small = size(1_000);
    const big = size(500_000);
    // Requests and ingest calls are per request, at any rate: the cost model's figure.
    const model = priceLines(MIX, { name: "ingest", isolateRate: 10, shardRate: 1_000, windowMs: 10 });
    expect(line(small, "Worker requests")[2]).toBeCloseTo(model[0]?.[2] ?? 0, 6);
    expect(line(small, "Worker requests")[2]).toBeCloseTo((1e9 / MIX.eventsPerRequest) * PRICE.request, 6);
    // Fewer events a second share fewer commits and keep actors awake for fewer events.
    expect(line(small, "DO SQLite")[2]).toBeGreaterThan(line(big, "DO SQLite")[2]);
    expect(line(small, "DO duration")[2]).toBeGreaterThan(line(big, "DO duration")[2]);
    // The monthly bill is the lines' sum over a month of events.
    const perBillion = small.lines.reduce((n, [, , usd]) => n + usd, 0);
    expect(small.cloudflareMonthly).toBeCloseTo((perBillion * 1_000 * 730 * 3600) / 1e9, 6);
  });

  it("sizes ClickHouse by the rows its tables and views write, with at least two replicas of two vCPUs", () => {
    const s = size(100_000);
    expect(s.clickhouseRowsPerSecond).toBeCloseTo(100_000 * clickhouseRowsPerEvent(s.eventsPerDelivery), 3);
    expect(s.clickhouseVcpus * ASSUMPTIONS.clickhouseRowsPerCoreSecond).toBeGreaterThanOrEqual(
      ASSUMPTIONS.clickhouseHeadroom * s.clickhouseRowsPerSecond,
    );
    expect(size(10).clickhouseVcpus).toBe(4);
  });
});
