/**
 * README "The warehouse" promises analysts example SQL: every ```sql block of that section runs on
 * the embedded PostgreSQL against a small loaded day (events through the session reducer into
 * `events`/`sessions`, that day aggregated as the daily job does) and answers what it says.
 */
import { readFileSync } from "node:fs";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { aggregateDay } from "../../consumers/warehouse-aggregate-day.ts";
import { replayChunk } from "../../core/replay/replay.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "../../core/warehouse/rows.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const section = readme.slice(readme.indexOf("## The warehouse"));
const queries = [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const DAY = 86_400_000;
const day = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;
let db: Warehouse;

beforeAll(async () => {
  db = openWarehouse(await freshWarehouse("readme"), { max: 1 });
  const events = [
    // v1: pricing, then a signup and a purchase; v2: pricing only; v3: home.
    makeEvent({
      property_id: "UA-DEMO-1",
      client_id: "v1",
      event_id: "a1",
      event_timestamp: day + 36e5,
      page_path: "/pricing",
      page_url: "https://example.com/pricing",
    }),
    makeEvent({
      property_id: "UA-DEMO-1",
      client_id: "v1",
      event_id: "a2",
      event_timestamp: day + 37e5,
      event_type: "signup",
    }),
    makeEvent({
      property_id: "UA-DEMO-1",
      client_id: "v1",
      event_id: "a3",
      event_timestamp: day + 38e5,
      event_type: "purchase",
      custom_metrics: { revenue: 42.5 },
    }),
    makeEvent({
      property_id: "UA-DEMO-1",
      client_id: "v2",
      event_id: "b1",
      event_timestamp: day + 72e5,
      page_path: "/pricing",
      page_url: "https://example.com/pricing",
    }),
    makeEvent({
      property_id: "UA-DEMO-1",
      client_id: "v3",
      event_id: "c1",
      event_timestamp: day + 90e5,
      page_path: "/",
      page_url: "https://example.com/",
    }),
  ];
  const rows = replayChunk(events, new Map());
  const latest = new Map(rows.sessionLog.filter((r) => r.sign === 1).map((r) => [String(r.session_id), r]));
  await db.insertInto("events").values(rows.events.map(toWarehouseEventRow)).execute();
  await db
    .insertInto("sessions")
    .values([...latest.values()].map(toWarehouseSessionRow))
    .execute();
  await aggregateDay(db, new Date(day).toISOString().slice(0, 10), async () => []);
});

afterAll(async () => {
  await db?.destroy();
});

it("has the section's four example queries", () => {
  expect(queries).toHaveLength(4);
});

it("answers daily active visitors from the aggregates", async () => {
  const { rows } = await sql.raw<{ visitors: number; pageviews: number }>(queries[0] ?? "").execute(db);
  expect(rows.map((r) => [r.visitors, r.pageviews])).toEqual([[3, 3]]);
});

it("answers the cohort table", async () => {
  const { rows } = await sql.raw<{ week_offset: number; visitors: number }>(queries[1] ?? "").execute(db);
  expect(rows.map((r) => [r.week_offset, r.visitors])).toEqual([[0, 3]]);
});

it("answers the funnel: two viewed /pricing, one then signed up", async () => {
  const { rows } = await sql.raw<{ viewed_pricing: number; then_signed_up: number }>(queries[2] ?? "").execute(db);
  expect(rows).toEqual([{ viewed_pricing: 2, then_signed_up: 1 }]);
});

it("answers revenue by month from the custom metrics", async () => {
  const { rows } = await sql.raw<{ revenue: number }>(queries[3] ?? "").execute(db);
  expect(rows.map((r) => r.revenue)).toEqual([42.5]);
});
