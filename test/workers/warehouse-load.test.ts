/**
 * The hourly warehouse load through its Cron Trigger (`worker.scheduled`, WAREHOUSE_CRON), in workerd against the
 * real embedded PostgreSQL: events archived by the real consumer are loaded hour by hour into
 * `events` and `sessions`, each run recorded in `job_runs`; a re-run replaces hours without
 * doubling them; a session crossing two hours, loaded separately and in either order, is the one
 * row the session reducer computes. Each test loads into a schema of its own (the ledger is
 * per warehouse, and other files share the project's database).
 */
import { createExecutionContext, createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { WAREHOUSE_CRON } from "../../consumers/schedule.ts";
import { warehouseWork } from "../../consumers/warehouse-jobs.ts";
import type { Event } from "../../core/event.ts";
import { replayChunk } from "../../core/replay/replay.ts";
import { HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { dayOf, LOAD_JOB, lastClosedHour, SCHEDULE_JOB } from "../../core/warehouse/jobs.ts";
import { hourFloor } from "../../core/warehouse/load.ts";
import { toWarehouseSessionRow } from "../../core/warehouse/rows.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { type Warehouse, withWarehouse } from "../../platform/warehouse.ts";
import worker from "../../workers/main.ts";
import { consumeMessage, createProperty, YESTERDAY_10H } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const TABLES = ["events", "sessions", "job_runs", "data_quality", "daily_metrics", "weekly_reports"] as const;
const MORE_TABLES = ["monthly_reports", "user_cohorts", "conversion_funnels"] as const;
const schemas: string[] = [];

/** A warehouse of the test's own: a schema with the migrated tables' shapes, reached through search_path. */
async function isolatedWarehouse(name: string): Promise<string> {
  const schema = `wl_${name}_${run}`;
  await withWarehouse(env.WAREHOUSE_URL, async (db) => {
    await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
    for (const table of [...TABLES, ...MORE_TABLES])
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

/**
 * The warehouse's Cron Trigger as Cloudflare runs it, on an env pointing at `url` and starting its history on
 * `day`. Returns its scheduled time: what counts as a closed hour is judged from it, not from a
 * later clock that may have crossed an hour's closing meanwhile.
 */
async function cron(url: string, day: string): Promise<number> {
  const ctx = createExecutionContext();
  const wenv = { ...env, WAREHOUSE_URL: url, WAREHOUSE_LOAD_START: day };
  const scheduledTime = Date.now();
  await worker.scheduled(createScheduledController({ cron: WAREHOUSE_CRON, scheduledTime }), wenv, ctx);
  return scheduledTime;
}

/** Alice's visit from 10:50 to 11:20 (one session over two hours), Bob's one pageview at 10:55. */
function traffic(property: string): Event[] {
  const at = YESTERDAY_10H + 50 * MINUTE_MS;
  const ev = (id: string, client: string, t: number, extra: Partial<Event> = {}) =>
    makeEvent({
      property_id: property,
      event_id: `${run}-${id}`,
      client_id: `${run}-${client}`,
      event_timestamp: t,
      ...extra,
    });
  return [
    ev("a1", "alice", at, { page_path: "/" }),
    ev("b1", "bob", at + 5 * MINUTE_MS, { page_path: "/docs" }),
    ev("a2", "alice", at + 15 * MINUTE_MS, { page_path: "/pricing" }),
    ev("a3", "alice", at + 30 * MINUTE_MS, { event_type: "signup", interactive: true, page_path: "/pricing" }),
  ];
}

/** The sessions the reducer computes over all the events at once, as warehouse rows. */
function reducerSessions(events: readonly Event[]) {
  const rows = replayChunk(events, new Map());
  return rows.sessionLog
    .filter((r) => r.sign === 1)
    .map(toWarehouseSessionRow)
    .sort((a, b) => (a.session_id < b.session_id ? -1 : 1));
}

async function stored(db: Warehouse, property: string) {
  const events = await db
    .selectFrom("events")
    .select(["event_id", "session_id", "event_timestamp"])
    .where("property_id", "=", property)
    .orderBy("event_timestamp")
    .execute();
  const sessions = await db
    .selectFrom("sessions")
    .selectAll()
    .where("property_id", "=", property)
    .orderBy("session_id")
    .execute();
  return { events, sessions };
}

it("loads closed hours on schedule into events and sessions, records each run, and a re-run doubles nothing", async () => {
  const p = await createProperty({ property_id: `WL-${run}` });
  const events = traffic(p.property_id);
  expect((await consumeMessage(`${run}-m1`, events)).retryMessages).toEqual([]);
  const url = await isolatedWarehouse("cron");
  const ten = hourFloor(YESTERDAY_10H);
  const ranAt = await cron(url, dayOf(YESTERDAY_10H));

  await withWarehouse(url, async (db) => {
    const first = await stored(db, p.property_id);
    const alice = `s_${run}-a1`;
    expect(first.events.map((e) => [e.event_id, e.session_id])).toEqual([
      [`${run}-a1`, alice],
      [`${run}-b1`, `s_${run}-b1`],
      [`${run}-a2`, alice],
      [`${run}-a3`, alice],
    ]);
    // Alice's visit crossed 11:00 and its hours loaded separately: one row, as the reducer has it.
    expect(first.sessions).toEqual(reducerSessions(events));
    expect(first.sessions.find((s) => s.session_id === alice)).toMatchObject({
      pageviews: 2,
      events: 3,
      interactive_events: 1,
      is_bounce: false,
      duration: 30 * 60,
      entry_page: "/",
      exit_page: "/pricing",
    });

    const runs = await db.selectFrom("job_runs").selectAll().where("job", "=", LOAD_JOB).execute();
    const byHour = new Map(runs.map((r) => [r.period_start.getTime(), r]));
    expect(byHour.get(ten)).toMatchObject({ status: "done", period_end: new Date(ten + HOUR_MS) });
    expect(byHour.get(ten)?.rows_written).toBeGreaterThan(0);
    expect(byHour.get(ten + HOUR_MS)).toMatchObject({ status: "done" });
    expect(byHour.get(ten)?.finished_at).toBeInstanceOf(Date);
    // Every closed hour since the start of the day, once each; the frontier is past the last one.
    const closed = lastClosedHour(ranAt);
    expect(runs.every((r) => r.status === "done")).toBe(true);
    expect(new Set(runs.map((r) => r.period_start.getTime())).size).toBe(runs.length);
    expect(runs.length).toBe((closed - Date.parse(`${dayOf(YESTERDAY_10H)}T00:00:00Z`)) / HOUR_MS + 1);
    const schedule = await db.selectFrom("job_runs").selectAll().where("job", "=", SCHEDULE_JOB).execute();
    expect(schedule).toHaveLength(1);
    expect(schedule[0]?.period_end.getTime()).toBe(closed + HOUR_MS);

    // The next run finds nothing to do; forced reloads, in reverse order, replace the hours.
    await cron(url, dayOf(YESTERDAY_10H));
    const wenv = { ...env, WAREHOUSE_URL: url };
    for (const hour of [ten + HOUR_MS, ten, ten + HOUR_MS])
      expect(await warehouseWork.loadHour(wenv, db, hour, { force: true })).toMatchObject({ status: "done" });
    expect(await stored(db, p.property_id)).toEqual(first);
    const again = await db.selectFrom("job_runs").select("period_start").where("job", "=", LOAD_JOB).execute();
    expect(again).toHaveLength(runs.length);
  });
}, 60_000);

it("a late event that joins an hour's session is loaded into it, the session rewritten from all its events", async () => {
  const p = await createProperty({ property_id: `WLL-${run}` });
  const events = traffic(p.property_id);
  const url = await isolatedWarehouse("late");
  const wenv = { ...env, WAREHOUSE_URL: url };
  const ten = hourFloor(YESTERDAY_10H);
  // Alice's last two events first: 11:05 and 11:20, loaded as their own session.
  expect((await consumeMessage(`${run}-l1`, events.slice(2))).retryMessages).toEqual([]);
  await withWarehouse(url, async (db) => {
    await warehouseWork.loadHour(wenv, db, ten + HOUR_MS, {});
    expect((await stored(db, p.property_id)).sessions.map((s) => s.session_id)).toEqual([`s_${run}-a2`]);
    // Then 10:50 and 10:55 arrive late; only 10:00 is loaded again: Alice's session now starts at 10:50.
    expect((await consumeMessage(`${run}-l2`, events.slice(0, 2))).retryMessages).toEqual([]);
    await warehouseWork.loadHour(wenv, db, ten, {});
    const after = await stored(db, p.property_id);
    expect(after.sessions).toEqual(reducerSessions(events));
    expect(after.events.map((e) => e.session_id)).toEqual([`s_${run}-a1`, `s_${run}-b1`, `s_${run}-a1`, `s_${run}-a1`]);
  });
}, 60_000);
