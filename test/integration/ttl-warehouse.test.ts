/**
 * The warehouse forgets on time (issue #17), against the embedded PostgreSQL: the day's privacy
 * jobs (consumers/warehouse-retention.ts) empty raw user agents older than RAW_USER_AGENT_DAYS and
 * delete what lies wholly before ARCHIVE_RETENTION_DAYS, in every table with visitors' data, once a
 * day under the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWarehousePrivacy } from "../../consumers/warehouse-retention.ts";
import { toClickHouseRow, toSessionRow } from "../../core/clickhouse-row.ts";
import { firstKeptDate, RAW_USER_AGENT_JOB, RETENTION_JOB } from "../../core/privacy/warehouse-retention.ts";
import { advanceSession, EMPTY_VISITOR } from "../../core/session/session.ts";
import { DAY_MS } from "../../core/time.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "../../core/warehouse/rows.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { openWarehouse, type Warehouse } from "../../platform/warehouse.ts";
import { freshWarehouse } from "../support/warehouse.ts";

const NOW = Date.UTC(2026, 11, 2, 10, 10);
const CONFIG = { RAW_USER_AGENT_DAYS: 30, ARCHIVE_RETENTION_DAYS: 730 };
const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let db: Warehouse;

/** An event and its one-event session, `ageDays` before NOW. */
async function visit(id: string, ageDays: number): Promise<void> {
  const event = makeEvent({ event_id: id, client_id: id, event_timestamp: NOW - ageDays * DAY_MS, user_agent: UA });
  await db
    .insertInto("events")
    .values(toWarehouseEventRow(toClickHouseRow(event, event.event_timestamp)))
    .execute();
  const session = advanceSession(EMPTY_VISITOR, event).state.session ?? expect.fail();
  await db
    .insertInto("sessions")
    .values(toWarehouseSessionRow(toSessionRow(session)))
    .execute();
}

const metrics = {
  dimension: "",
  value: "",
  visitors: 1,
  visits: 1,
  pageviews: 1,
  events: 1,
  bounces: 0,
  duration_seconds: 0,
};

beforeAll(async () => {
  db = openWarehouse(await freshWarehouse("ttl_wh"), { max: 1 });
  await visit("fresh", 1);
  await visit("month-old", 40);
  await visit("expired", 731);
  const cut = NOW - 730 * DAY_MS;
  // Each aggregate: the last period wholly before the cut, and the first that is not.
  const day = Date.parse(firstKeptDate(cut, DAY_MS));
  await db
    .insertInto("daily_metrics")
    .values([
      { property_id: "p", day: iso(day - DAY_MS), ...metrics },
      { property_id: "p", day: iso(day), ...metrics },
    ])
    .execute();
  const week = Date.parse(firstKeptDate(cut, 7 * DAY_MS));
  await db
    .insertInto("weekly_reports")
    .values([
      { property_id: "p", week_start: iso(week - DAY_MS), ...metrics },
      { property_id: "p", week_start: iso(week), ...metrics },
    ])
    .execute();
});

afterAll(async () => {
  await db.destroy();
});

describe("the warehouse's privacy jobs", () => {
  it("empty raw user agents past their days and delete rows past the retention, keeping the rest", async () => {
    const report = await runWarehousePrivacy(db, CONFIG, NOW);
    expect(report).toEqual({ user_agents_emptied: 1, rows_deleted: 4, errors: [] });
    expect(
      await db.selectFrom("events").select(["event_id", "user_agent", "browser"]).orderBy("event_id").execute(),
    ).toEqual([
      { event_id: "fresh", user_agent: UA, browser: "Chrome" },
      { event_id: "month-old", user_agent: "", browser: "Chrome" },
    ]);
    expect((await db.selectFrom("sessions").select("client_id").orderBy("client_id").execute()).length).toBe(2);
    expect((await db.selectFrom("daily_metrics").select("day").execute()).length).toBe(1);
    expect((await db.selectFrom("weekly_reports").select("week_start").execute()).length).toBe(1);
  });

  it("runs once a day: the ledger skips the day's second run", async () => {
    await visit("late-old", 45);
    expect(await runWarehousePrivacy(db, CONFIG, NOW + 3_600_000)).toEqual({
      user_agents_emptied: 0,
      rows_deleted: 0,
      errors: [],
    });
    const jobs = await db
      .selectFrom("job_runs")
      .select(["job", "status"])
      .where("job", "in", [RAW_USER_AGENT_JOB, RETENTION_JOB])
      .orderBy("job")
      .execute();
    expect(jobs).toEqual([
      { job: RAW_USER_AGENT_JOB, status: "done" },
      { job: RETENTION_JOB, status: "done" },
    ]);
    expect((await runWarehousePrivacy(db, CONFIG, NOW + DAY_MS)).user_agents_emptied).toBe(1);
  });
});
