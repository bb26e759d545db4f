/**
 * Deep history through the query API in workerd (issue #16), against the real embedded PostgreSQL:
 * a range the warehouse holds answers from it, a range across its boundary from both stores
 * merged, a year-over-year comparison from the warehouse, and ClickHouse while it has no frontier. Each
 * test reads a warehouse schema of its own (the ledger decides the routing; other files share the
 * project's database).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOUR_MS } from "../../core/time.ts";
import { SCHEDULE_JOB } from "../../core/warehouse/jobs.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "../../core/warehouse/rows.ts";
import { replay } from "../../dev/fixtures/dataset.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";
import { type CreatedProperty, consumeMessage, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const schemas: string[] = [];
const TABLES = ["events", "sessions", "job_runs"] as const;

/** A warehouse schema of the test's own, with the migrated tables' shapes, reached through search_path. */
async function isolatedWarehouse(name: string): Promise<string> {
  const schema = `qw_${name}_${run}`;
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    for (const table of TABLES)
      await sql`CREATE TABLE ${sql.id(schema, table)} (LIKE ${sql.id("public", table)} INCLUDING ALL)`.execute(db);
  });
  schemas.push(schema);
  const url = new URL(env.WAREHOUSE_URL);
  url.searchParams.set("options", `-c search_path=${schema}`);
  return url.toString();
}

afterAll(async () => {
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  });
});

const NOW = Date.now();
const DAY = 86_400_000;
/** 200 days ago at 10:00 UTC: beyond the hot retention, inside "Last 12 months". */
const OLD = Math.floor(NOW / DAY) * DAY - 200 * DAY + 10 * HOUR_MS;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

let p: CreatedProperty;
let loaded: string;

/** Three visitors 200 days ago, in the warehouse only; one visitor yesterday, in ClickHouse only. */
beforeAll(async () => {
  p = await createProperty({ property_id: `QW-${run}` });
  const ev = (client: string, id: string, t: number, page = "/") =>
    makeEvent({
      property_id: p.property_id,
      client_id: client,
      event_id: `${run}-${id}`,
      event_timestamp: t,
      page_path: page,
    });
  const old = replay([
    ev("a", "a1", OLD),
    ev("a", "a2", OLD + 60_000, "/pricing"),
    ev("b", "b1", OLD + 120_000),
    ev("c", "c1", OLD + 180_000),
  ]);
  loaded = await isolatedWarehouse("loaded");
  await withWarehouse(loaded, async (db) => {
    await db.insertInto("events").values(old.events.map(toWarehouseEventRow)).execute();
    const sessions = old.sessionLog.filter((r) => r.sign === 1).map(({ sign: _, ...r }) => toWarehouseSessionRow(r));
    await db.insertInto("sessions").values(sessions).execute();
    // The schedule's frontier: every hour before the last closed one is loaded.
    const frontier = Math.floor(NOW / HOUR_MS) * HOUR_MS - HOUR_MS;
    await db
      .insertInto("job_runs")
      .values({
        job: SCHEDULE_JOB,
        period_start: new Date(OLD - DAY),
        period_end: new Date(frontier),
        status: "done",
        started_at: new Date(NOW),
        finished_at: new Date(NOW),
        rows_written: 0,
        detail: "",
      })
      .execute();
  });
  await consumeMessage(`qw-${run}`, [ev("d", "d1", NOW - 10 * 60_000)]);
});

/** A request to the Worker with the warehouse at `url`. */
async function get(path: string, url: string): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://tally.test${path}`, {
      headers: { Authorization: `Bearer ${p.api_key}`, "Cache-Control": "no-cache" },
    }),
    { ...env, WAREHOUSE_URL: url },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return res;
}

const query = (body: Record<string, unknown>) =>
  `/api/v1/query?q=${encodeURIComponent(JSON.stringify({ property_id: p.property_id, ...body }))}`;

interface Answer {
  results: { dimensions: string[]; metrics: number[] }[];
  comparison?: { dimensions: string[]; metrics: number[] }[] | null;
  meta: { source: string; plan: string; comparison_unavailable?: string };
}

describe("the query API over deep history", () => {
  it("answers a range the warehouse holds from the warehouse", async () => {
    const res = await get(
      query({ metrics: ["visitors", "pageviews", "bounce_rate"], date_range: [iso(OLD - DAY), iso(OLD + DAY)] }),
      loaded,
    );
    expect(res.status).toBe(200);
    const body = await res.json<Answer>();
    expect(body.meta.source).toBe("warehouse");
    expect(body.results).toEqual([{ dimensions: [], metrics: [3, 4, 0.6667] }]);
  });

  it("answers Last 12 months from both stores, merged, by month and in total", async () => {
    const res = await get(query({ metrics: ["visitors", "pageviews"], date_range: "12mo" }), loaded);
    expect(res.status).toBe(200);
    const body = await res.json<Answer>();
    expect(body.meta.source).toBe("mixed");
    expect(body.meta.plan).toMatch(/warehouse up to .* ClickHouse after it, merged/);
    expect(body.results).toEqual([{ dimensions: [], metrics: [4, 5] }]);
    const months = await (
      await get(query({ metrics: ["visitors"], date_range: "12mo", dimensions: ["time:month"] }), loaded)
    ).json<Answer>();
    expect(months.results).toHaveLength(12);
    const byMonth = Object.fromEntries(months.results.map((r) => [r.dimensions[0], r.metrics[0]]));
    expect(byMonth[`${iso(OLD).slice(0, 7)}-01`]).toBe(3);
    expect(byMonth[`${iso(NOW).slice(0, 7)}-01`]).toBe(1);
    const pages = await (
      await get(`/api/v1/reports?property=${p.property_id}&report=pages&date_range=12mo`, loaded)
    ).json<{ rows: { page: string; visitors: number }[]; meta: { source: string } }>();
    expect(pages.meta.source).toBe("mixed");
    expect(pages.rows).toEqual(expect.arrayContaining([expect.objectContaining({ page: "/", visitors: 4 })]));
  });

  it("compares year over year through the same routing", async () => {
    const recent = [iso(OLD + 365 * DAY - DAY), iso(OLD + 365 * DAY + DAY)];
    const res = await get(query({ metrics: ["visitors"], date_range: recent, compare: "year_over_year" }), loaded);
    const body = await res.json<Answer>();
    expect(body.meta.comparison_unavailable).toBeUndefined();
    expect(body.comparison).toEqual([{ dimensions: [], metrics: [3] }]);
  });

  it("answers from ClickHouse, which has dropped nothing, while the warehouse has no frontier, and without one", async () => {
    const empty = await isolatedWarehouse("empty");
    for (const url of [empty, ""]) {
      const res = await get(query({ metrics: ["visitors"], date_range: "12mo" }), url);
      expect(res.status, url).toBe(200);
      const body = await res.json<Answer>();
      expect(body.meta.source).toBe("clickhouse");
      expect(body.meta.plan).toMatch(/no loaded frontier yet/);
      // Only yesterday's visitor is in ClickHouse here: the old three were put in the warehouse only.
      expect(body.results).toEqual([{ dimensions: [], metrics: [1] }]);
    }
  });
});
