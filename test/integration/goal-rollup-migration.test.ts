/**
 * Migration 0011 (goal rows in `events_rollup`) on a database that already holds events: the
 * backfill gives the stored events their goal rows, the new view gives later ones theirs, and a
 * goal question the planner sends to the rollup answers exactly what raw events answer.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, expect, it } from "vitest";
import type { QuerySpecInput } from "../../core/query/spec.ts";
import { generateDataset } from "../../dev/fixtures/dataset.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { migrate } from "../../migrations/migrator.ts";
import { freshDatabase } from "../support/clickhouse.ts";
import { DAY, insert, raw, resolve, runQuery } from "./query-engine-support.ts";

let client: ClickHouseClient;
const GOAL_QUERY: Partial<QuerySpecInput> = {
  metrics: ["visitors", "pageviews", "events", "conversion_rate"],
  dimensions: ["time:day"],
  filters: [["is", "event:goal", ["Signup", "Blog"]]],
};

beforeAll(async () => {
  ({ client } = await freshDatabase("goal_rollup", { migrated: false }));
  const all = readClickHouseMigrations();
  await migrate(
    client,
    all.filter((m) => m.name < "0011"),
  );
  await insert(client, generateDataset({ property_id: "UA-GEN-1", start: DAY, days: 1, visitors: 800, seed: 3 }));
  const report = await migrate(client, all);
  expect(report.applied).toContain("0011_goal_rollups.sql");
}, 120_000);

async function plannedEqualsRaw() {
  const q = resolve(GOAL_QUERY, "UA-GEN-1");
  const planned = await runQuery(client, q);
  expect(planned.plan.legs.map((l) => l.table)).toEqual(["events_rollup"]);
  const direct = await runQuery(client, q, raw);
  expect(planned.results.length).toBeGreaterThan(0);
  expect(planned.results).toEqual(direct.results);
  return planned.results;
}

it("gives events stored before it their goal rows", async () => {
  const [day] = await plannedEqualsRaw();
  expect(Number(day?.metrics[0])).toBeGreaterThan(50);
});

it("keeps later events' goal rows current through the new view", async () => {
  const before = await plannedEqualsRaw();
  await insert(
    client,
    generateDataset({ property_id: "UA-GEN-1", start: DAY + 86_400_000, days: 1, visitors: 400, seed: 4 }),
  );
  const after = await plannedEqualsRaw();
  // The range's second day (2026-11-21) held only the first visitors' late events before.
  expect(Number(after[1]?.metrics[0])).toBeGreaterThan(Number(before[1]?.metrics[0]) + 20);
});
