/**
 * WarehouseDO in workerd against the real embedded PostgreSQL: an import of old history reaches the
 * warehouse through the consumer's mark and the actor's alarm (by itself, within seconds), a
 * re-import after that load replaces the hour without doubling it, and the backfill route
 * validates its input, refuses a second job while one runs, and reports the job's progress.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { DAY_MS, MINUTE_MS } from "../../core/time.ts";
import type { BackfillStatus } from "../../core/warehouse/backfill.ts";
import { dayOf, LOAD_JOB } from "../../core/warehouse/jobs.ts";
import { hourFloor } from "../../core/warehouse/load.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { withWarehouse } from "../../platform/warehouse.ts";
import { ADMIN, call, consumeMessage, createProperty, envelope } from "./helpers.ts";

const run = crypto.randomUUID().slice(0, 8);
const actor = () => env.WAREHOUSE_DO.getByName("global");
/** An hour 200 days ago: history an import brings. */
const OLD = hourFloor(Date.now() - 200 * DAY_MS);

function ev(property: string, id: string, client: string, at: number): Event {
  return makeEvent({
    property_id: property,
    event_id: `${run}-${id}`,
    client_id: `${run}-${client}`,
    event_timestamp: at,
  });
}

async function warehouseRows(property: string) {
  return withWarehouse(env.WAREHOUSE_URL, async (db) => ({
    events: await db
      .selectFrom("events")
      .select(["event_id", "session_id"])
      .where("property_id", "=", property)
      .orderBy("event_timestamp")
      .execute(),
    sessions: await db
      .selectFrom("sessions")
      .select(["session_id", "events", "pageviews"])
      .where("property_id", "=", property)
      .execute(),
  }));
}

async function until<T>(probe: () => Promise<T>, done: (t: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("late events", () => {
  it("an import of history 200 days old is in the warehouse within seconds, and a re-import doubles nothing", async () => {
    const p = await createProperty({ property_id: `WJ-${run}` });
    const first = [
      ev(p.property_id, "i1", "ann", OLD + 10 * MINUTE_MS),
      ev(p.property_id, "i2", "ann", OLD + 20 * MINUTE_MS),
    ];
    const started = Date.now();
    expect((await consumeMessage(`${run}-i1`, first)).retryMessages).toEqual([]);
    expect(await actor().pendingHours()).toContain(OLD);
    // No one runs the alarm: it fires by itself about 5 s after the mark.
    const loaded = await until(
      () => warehouseRows(p.property_id),
      (r) => r.events.length === 2,
      40_000,
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(loaded.events).toEqual([
      { event_id: `${run}-i1`, session_id: `s_${run}-i1` },
      { event_id: `${run}-i2`, session_id: `s_${run}-i1` },
    ]);
    expect(loaded.sessions).toEqual([{ session_id: `s_${run}-i1`, events: 2, pageviews: 2 }]);

    // The same import again plus one more line of that visit: the hour is loaded again, once each.
    const more = [...first, ev(p.property_id, "i3", "ann", OLD + 25 * MINUTE_MS)];
    expect((await consumeMessage(`${run}-i2`, more)).retryMessages).toEqual([]);
    // Marked again (the actor may have run it already: an alarm that sees new marks re-arms at once).
    await runDurableObjectAlarm(actor());
    const again = await until(
      () => warehouseRows(p.property_id),
      (r) => r.events.length === 3,
      20_000,
    );
    expect(again.events.map((e) => e.event_id)).toEqual([`${run}-i1`, `${run}-i2`, `${run}-i3`]);
    expect(again.sessions).toEqual([{ session_id: `s_${run}-i1`, events: 3, pageviews: 3 }]);
    await withWarehouse(env.WAREHOUSE_URL, async (db) => {
      const ledger = await db
        .selectFrom("job_runs")
        .selectAll()
        .where("job", "=", LOAD_JOB)
        .where("period_start", "=", new Date(OLD))
        .execute();
      expect(ledger).toHaveLength(1);
      expect(ledger[0]?.status).toBe("done");
    });
  }, 90_000);

  it("current events mark nothing", async () => {
    const p = await createProperty({ property_id: `WJN-${run}` });
    const before = await actor().pendingHours();
    expect((await consumeMessage(`${run}-n1`, [ev(p.property_id, "n1", "ned", Date.now())])).retryMessages).toEqual([]);
    expect(await actor().pendingHours()).toEqual(before.filter((h) => h !== hourFloor(Date.now())));
  });
});

describe("the backfill route", () => {
  const post = (body: unknown, headers: Record<string, string> = ADMIN) =>
    call("/api/v1/admin/warehouse/load", {
      method: "POST",
      headers: { ...headers, "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });

  it("refuses bad input with a 400 naming the field, and callers without the admin token", async () => {
    expect((await post({ from: "2026-01-01", to: "2026-01-02" }, {})).status).toBe(401);
    for (const [body, field] of [
      [{ to: "2026-01-02" }, "from"],
      [{ from: "2026-01-01" }, "to"],
      [{ from: "2026-02-30", to: "2026-03-01" }, "from"],
      [{ from: "2026-03-02", to: "2026-03-01" }, "from"],
      [{ from: "2026-01-01", to: "2026-01-02", property: "no spaces" }, "property"],
      [{ from: "2026-01-01", to: "2026-01-02", force: "yes" }, "force"],
      [{ from: "2026-01-01", to: "2026-01-02", target: "x" }, "target"],
    ] as const) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await envelope(res)).error.message).toMatch(new RegExp(`^${field}: `));
    }
  });

  it("loads a day for one property on alarms, reports progress, and refuses a second job meanwhile", async () => {
    const p = await createProperty({ property_id: `WJB-${run}` });
    const day = dayOf(OLD - DAY_MS);
    const at = Date.parse(`${day}T13:15:00Z`);
    expect(
      (
        await consumeMessage(`${run}-b1`, [
          ev(p.property_id, "b1", "bea", at),
          ev(p.property_id, "b2", "bo", at + 60_000),
        ])
      ).retryMessages,
    ).toEqual([]);
    const res = await post({ from: day, to: day, property: p.property_id, force: true });
    expect(res.status).toBe(202);
    const started = await res.json<BackfillStatus>();
    expect(started).toMatchObject({ state: "running", hours_total: 24, hours_done: 0, days_total: 1 });
    const busy = await post({ from: day, to: day });
    if (busy.status === 409) expect((await envelope(busy)).error.code).toBe("backfill_running");
    else expect(busy.status).toBe(202); // the first job finished already
    const status = await until(
      async () => {
        await runDurableObjectAlarm(actor());
        return (await call("/api/v1/admin/warehouse/load", { headers: ADMIN })).json<BackfillStatus>();
      },
      (s) => s.state !== "running",
      60_000,
    );
    expect(status).toMatchObject({ state: "done", hours_total: 24, hours_done: 24, days_aggregated: 1 });
    const rows = await warehouseRows(p.property_id);
    expect(rows.events.map((e) => e.event_id)).toEqual([`${run}-b1`, `${run}-b2`]);
    expect(rows.sessions).toHaveLength(2);
  }, 90_000);
});
