/**
 * Funnels, retention and the bot audit over deep history in workerd (issue #16), against the real
 * embedded PostgreSQL: "Last 12 months" answers 200 from the warehouse, cut at its boundary (the
 * ledger's frontier), which `meta` names; the events after it, in ClickHouse only, are not counted.
 * The warehouse schema is this file's own (the ledger decides the routing).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { HOUR_MS } from "../../core/time.ts";
import { SCHEDULE_JOB } from "../../core/warehouse/jobs.ts";
import { toWarehouseEventRow } from "../../core/warehouse/rows.ts";
import { replay } from "../../dev/fixtures/dataset.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";
import { type CreatedProperty, consumeMessage, createProperty } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const schema = `qwr_${run}`;
const NOW = Date.now();
const DAY = 86_400_000;
/** 200 days ago at 10:00 UTC: beyond the hot retention, inside "Last 12 months". */
const OLD = Math.floor(NOW / DAY) * DAY - 200 * DAY + 10 * HOUR_MS;
/** The schedule's frontier: every hour before the last closed one is loaded. */
const FRONTIER = Math.floor(NOW / HOUR_MS) * HOUR_MS - HOUR_MS;
const iso = (t: number) => new Date(t).toISOString().slice(0, 10);
const HEADLESS = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0";

let p: CreatedProperty;
let url: string;

/**
 * In the warehouse only, 200 days ago: a funnel / → /pricing → signup that a completes, b leaves
 * at pricing and c at landing; a back a week later; a headless bot. In ClickHouse only, ten
 * minutes ago (after the frontier): d completes the funnel.
 */
beforeAll(async () => {
  p = await createProperty({ property_id: `QWR-${run}` });
  const ev = (client: string, id: string, t: number, more: Partial<Event> = {}) =>
    makeEvent({ property_id: p.property_id, client_id: client, event_id: `${run}-${id}`, event_timestamp: t, ...more });
  const old = replay([
    ev("a", "a1", OLD),
    ev("a", "a2", OLD + 60_000, { page_path: "/pricing" }),
    ev("a", "a3", OLD + 120_000, { event_type: "signup" }),
    ev("b", "b1", OLD + 180_000),
    ev("b", "b2", OLD + 240_000, { page_path: "/pricing" }),
    ev("c", "c1", OLD + 300_000),
    ev("a", "a4", OLD + 7 * DAY),
    ev("x", "x1", OLD + 360_000, { is_bot: true, bot_reason: "headless", user_agent: HEADLESS }),
  ]);
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    for (const table of ["events", "sessions", "job_runs"])
      await sql`CREATE TABLE ${sql.id(schema, table)} (LIKE ${sql.id("public", table)} INCLUDING ALL)`.execute(db);
  });
  const u = new URL(env.WAREHOUSE_URL);
  u.searchParams.set("options", `-c search_path=${schema}`);
  url = u.toString();
  await withWarehouse(url, async (db) => {
    await db.insertInto("events").values(old.events.map(toWarehouseEventRow)).execute();
    await db
      .insertInto("job_runs")
      .values({
        job: SCHEDULE_JOB,
        period_start: new Date(OLD - DAY),
        period_end: new Date(FRONTIER),
        status: "done",
        started_at: new Date(NOW),
        finished_at: new Date(NOW),
        rows_written: 0,
        detail: "",
      })
      .execute();
  });
  await consumeMessage(`qwr-${run}`, [
    ev("d", "d1", NOW - 10 * 60_000),
    ev("d", "d2", NOW - 9 * 60_000, { page_path: "/pricing" }),
    ev("d", "d3", NOW - 8 * 60_000, { event_type: "signup" }),
  ]);
});

afterAll(async () => {
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
  });
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://tally.test${path}`, {
      headers: { Authorization: `Bearer ${p.api_key}`, "Cache-Control": "no-cache" },
    }),
    { ...env, WAREHOUSE_URL: url },
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return { status: res.status, body: await res.json<T>() };
}

interface Meta {
  meta: { source: string; plan: string };
}
const cut = `cut at ${new Date(FRONTIER).toISOString()}`;

describe("funnels, retention and the bot audit over Last 12 months", () => {
  it("answers a funnel from the warehouse, up to its boundary", async () => {
    const steps = encodeURIComponent(
      JSON.stringify([
        { kind: "page", value: "/" },
        { kind: "page", value: "/pricing" },
        { kind: "event", value: "signup" },
      ]),
    );
    const path = `/api/v1/reports?property=${p.property_id}&report=funnel&date_range=12mo&window_seconds=3600&steps=${steps}`;
    const { status, body } = await get<Meta & { steps: { visitors: number }[] }>(path);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.meta.source).toBe("warehouse");
    expect(body.meta.plan).toContain(cut);
    // a b c from the warehouse; d, after the boundary, is not counted.
    expect(body.steps.map((s) => s.visitors)).toEqual([3, 2, 1]);
  });

  it("answers retention from the warehouse", async () => {
    const path = `/api/v1/reports?property=${p.property_id}&report=retention&date_range=12mo`;
    const { status, body } = await get<Meta & { cohorts: { visitors: number; retention: number[] }[] }>(path);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.meta.source).toBe("warehouse");
    expect(body.meta.plan).toContain(cut);
    // One cohort, a b c (the bot excluded); a back the week after. d is after the boundary.
    expect(body.cohorts).toHaveLength(1);
    expect(body.cohorts[0]?.visitors).toBe(3);
    expect(body.cohorts[0]?.retention.slice(0, 3)).toEqual([1, 1 / 3, 0]);
  });

  it("audits bots over the dashboard's 365 days from the warehouse, its `to` the boundary", async () => {
    const path = `/api/v1/bots?property=${p.property_id}&from=${iso(NOW - 365 * DAY)}&to=${iso(NOW)}&reclassify=true`;
    const { status, body } = await get<
      Meta & { to: string; total_events: number; by_reason: { reason: string; events: number }[]; samples: unknown[] }
    >(path);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.meta.source).toBe("warehouse");
    expect(body.to).toBe(new Date(FRONTIER).toISOString());
    expect(body.total_events).toBe(8);
    expect(body.by_reason).toEqual([{ reason: "headless", events: 1, visitors: 1 }]);
    expect(body.samples).toEqual([expect.objectContaining({ reason: "headless", user_agent: HEADLESS })]);
  });
});
