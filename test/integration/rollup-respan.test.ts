/**
 * Day blocks after a partial replay, against the real engine: a replay clears and rewrites some
 * days, and the blocks longer than a day that straddle them are wrong until respanStatements
 * rebuilds them from the one-day rows. Then every figure equals what the raw tables say.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, expect, it } from "vitest";
import { normaliseQuery, type ResolvedQuery } from "../../core/query/normalise.ts";
import { type Plan, planQuery } from "../../core/query/plan.ts";
import { alignedCover, DAYS_TABLES, respanStatements } from "../../core/query/rollup-spans.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { buildQuerySql } from "../../core/query/sql.ts";
import { REPLAY_CLEARED } from "../../core/replay/replay.ts";
import { DAY_MS } from "../../core/time.ts";
import { generateDataset } from "../../dev/fixtures/dataset.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const START = Date.UTC(2026, 10, 20); // epoch day 20,777: [20th, 23rd) is a 1-day and a 2-day block
const NOW = START + 10 * DAY_MS;
const PROPERTY = "UA-RESPAN-1";
let client: ClickHouseClient;
const data = generateDataset({ property_id: PROPERTY, start: START, days: 3, visitors: 600, seed: 11 });

const at = (text: string) => Date.parse(`${text.replace(" ", "T")}Z`);
const within = (text: string, from: number, to: number) => at(text) >= from && at(text) < to;

async function insert(from = 0, to = Number.MAX_SAFE_INTEGER) {
  const events = data.events.filter((r) => within(r.event_timestamp, from, to));
  const sessionLog = data.sessionLog.filter((r) => within(String(r.opened_at), from, to));
  await client.insert({ table: "events", values: events, format: "JSONEachRow" });
  await client.insert({ table: "session_log", values: sessionLog, format: "JSONEachRow" });
}

function resolve(spec: Partial<QuerySpecInput>): ResolvedQuery {
  const parsed = QuerySpecSchema.parse({
    property_id: PROPERTY,
    metrics: ["visitors", "visits", "pageviews", "bounce_rate"],
    date_range: ["2026-11-20", "2026-11-22"],
    ...spec,
  });
  return normaliseQuery(parsed, { propertyTimezone: "UTC", createdAt: START - DAY_MS, now: NOW, goals: [] });
}

const raw = (plan: Plan): Plan => ({
  ...plan,
  legs: plan.legs.map((l) => ({ ...l, table: l.side, rollupDimension: null, days: null })),
});

async function answers(spec: Partial<QuerySpecInput>) {
  const q = resolve(spec);
  const planned = planQuery(q, NOW, 90);
  const run = async (plan: Plan) => {
    const built = buildQuerySql(q, plan);
    return rows<Record<string, unknown>>(client, built.sql, built.params);
  };
  expect(planned.reason).toMatch(/day blocks/);
  return { rollup: await run(planned), raw: await run(raw(planned)) };
}

const SHAPES: Partial<QuerySpecInput>[] = [
  {},
  { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], limit: 100 },
  { metrics: ["visitors", "visits", "bounce_rate"], dimensions: ["visit:source"], limit: 100 },
];

beforeAll(async () => {
  ({ client } = await freshDatabase("respan"));
  await insert();
}, 120_000);

it("before a replay, the day blocks answer what the raw tables answer", async () => {
  for (const shape of SHAPES) {
    const { rollup, raw } = await answers(shape);
    expect(rollup).toEqual(raw);
  }
});

it("after replaying the 21st, blocks are wrong until rebuilt, then exact again — and rebuilding twice changes nothing", async () => {
  const [from, to] = [START + DAY_MS, START + 2 * DAY_MS];
  for (const [table, column] of REPLAY_CLEARED)
    await client.command({
      query: `DELETE FROM ${table} WHERE property_id = {p:String} AND ${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`,
      query_params: { p: PROPERTY, from, to },
      clickhouse_settings: { lightweight_deletes_sync: "2" },
    });
  await insert(from, to);
  const stale = await answers(SHAPES[1] ?? {}); // a breakdown: it reads the longer blocks
  expect(stale.rollup).not.toEqual(stale.raw);

  const [coverFrom, coverTo] = alignedCover(from, to);
  for (let round = 0; round < 2; round++) {
    for (const table of DAYS_TABLES)
      for (const query of respanStatements(table))
        await client.command({
          query,
          query_params: { p: PROPERTY, from: coverFrom, to: coverTo },
          clickhouse_settings: { lightweight_deletes_sync: "2" },
        });
    for (const shape of SHAPES) {
      const { rollup, raw } = await answers(shape);
      expect(rollup.length).toBeGreaterThan(0);
      expect(rollup).toEqual(raw);
    }
  }
});
