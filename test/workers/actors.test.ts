/**
 * The actors in workerd (issue #4): the consumer hands each batch to the session and property
 * actors before ClickHouse; events get session ids, sessions become rows, live windows answer
 * /api/v1/realtime, and redelivering a whole batch changes nothing anywhere.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { sessionActorKey } from "../../durable-objects/client.ts";
import type { SessionDO } from "../../durable-objects/session-do.ts";
import { VisitorStore } from "../../durable-objects/visitor-store.ts";
import { type CreatedProperty, call, consumeMessage, createProperty } from "./helpers.ts";

const PROPERTY = "UA-ACTORS-1";
const run = crypto.randomUUID().slice(0, 8);
const clickhouse = createClient({
  url: env.CLICKHOUSE_URL,
  database: env.CLICKHOUSE_DATABASE,
  keep_alive: { enabled: false },
});
let property: CreatedProperty;

const ev = (id: string, client: string, agoMs: number, extra: Partial<Event> = {}) =>
  makeEvent({
    property_id: PROPERTY,
    event_id: `${run}-${id}`,
    client_id: `${run}-${client}`,
    event_timestamp: Date.now() - agoMs,
    ...extra,
  });

const deliver = (id: string, events: Event[], attempts = 1) => consumeMessage(`${run}-${id}`, events, attempts);

async function query<T>(sql: string): Promise<T[]> {
  const r = await clickhouse.query({
    query: sql,
    query_params: { p: PROPERTY, run: `${run}-%` },
    format: "JSONEachRow",
  });
  return r.json<T>();
}

async function realtime() {
  const res = await call(`/api/v1/realtime?property=${PROPERTY}`, {
    headers: { Authorization: `Bearer ${property.api_key}` },
  });
  expect(res.status).toBe(200);
  return res.json<Record<string, unknown>>();
}

beforeAll(async () => {
  property = await createProperty({ property_id: PROPERTY });
});

describe("session and property actors", () => {
  const batch = [
    ev("a1", "alice", 120_000, { page_path: "/" }),
    ev("a2", "alice", 60_000, { page_path: "/pricing" }),
    ev("b1", "bob", 30_000, { page_path: "/", source: "Google", channel: "Organic Search" }),
    ev("a2", "alice", 60_000, { page_path: "/pricing" }), // the same event twice in one batch
  ];

  it("gives events their session ids, writes sessions, and counts the live windows once", async () => {
    expect((await deliver("m1", batch)).explicitAcks).toEqual([`${run}-m1`]);
    const events = await query<{ event_id: string; session_id: string }>(
      "SELECT event_id, session_id FROM events WHERE property_id = {p:String} AND event_id LIKE {run:String} ORDER BY event_id",
    );
    expect(events.map((e) => e.event_id.slice(9))).toEqual(["a1", "a2", "b1"]);
    expect(events[0]?.session_id).toBe(`s_${run}-a1`);
    expect(events[1]?.session_id).toBe(`s_${run}-a1`);
    const sessions = await query<{
      session_id: string;
      pageviews: number;
      is_bounce: boolean;
      duration: number;
      entry_page: string;
      exit_page: string;
    }>(
      "SELECT session_id, pageviews, is_bounce, duration, entry_page, exit_page FROM sessions FINAL WHERE property_id = {p:String} AND client_id LIKE {run:String} ORDER BY session_id",
    );
    expect(sessions).toEqual([
      {
        session_id: `s_${run}-a1`,
        pageviews: 2,
        is_bounce: false,
        duration: 60,
        entry_page: "/",
        exit_page: "/pricing",
      },
      { session_id: `s_${run}-b1`, pageviews: 1, is_bounce: true, duration: 0, entry_page: "/", exit_page: "/" },
    ]);
    const live = await realtime();
    expect(live).toMatchObject({
      property_id: PROPERTY,
      active_visitors: 2,
      pageviews_last_30m: 3,
      visitors_last_30m: 2,
    });
    expect(live.top_sources).toEqual(expect.arrayContaining([{ source: "Google", visitors: 1 }]));
  });

  it("changes nothing anywhere when the whole batch is redelivered", async () => {
    const before = {
      live: await realtime(),
      events: await query("SELECT count() AS n FROM events WHERE event_id LIKE {run:String}"),
      sessions: await query("SELECT * FROM sessions FINAL WHERE client_id LIKE {run:String} ORDER BY session_id"),
      log: await query("SELECT count() AS n FROM session_log WHERE client_id LIKE {run:String}"),
    };
    expect((await deliver("m1", batch, 2)).explicitAcks).toEqual([`${run}-m1`]);
    const after = {
      live: await realtime(),
      events: await query("SELECT count() AS n FROM events WHERE event_id LIKE {run:String}"),
      sessions: await query("SELECT * FROM sessions FINAL WHERE client_id LIKE {run:String} ORDER BY session_id"),
      log: await query("SELECT count() AS n FROM session_log WHERE client_id LIKE {run:String}"),
    };
    expect({ ...after.live, updated_at: 0 }).toEqual({ ...before.live, updated_at: 0 });
    expect(after.events).toEqual(before.events);
    expect(after.sessions).toEqual(before.sessions);
    expect(after.log).toEqual(before.log);
  });

  it("keeps visitor state small, in a log of a few rows, and lets the alarm close expired sessions", async () => {
    const stale = ev("c1", "carol", 40 * 60_000);
    await deliver("m2", [stale]);
    const stub = env.SESSION_DO.getByName(sessionActorKey(PROPERTY, stale.client_id, 1));
    const before = await stub.stats();
    expect(before.open_sessions).toBeGreaterThanOrEqual(1);
    expect(before.avg_state_bytes).toBeLessThanOrEqual(500);
    // What a fresh instance would read back from storage (after an eviction): the log, not memory.
    const stored = () =>
      runInDurableObject(stub, async (_i, s) => new VisitorStore(s.storage.sql).get(stale.client_id)?.state);
    // Just written: a backlog may still hold this visit's next events, so the alarm leaves it open.
    await runDurableObjectAlarm(stub);
    expect((await stored())?.session).not.toBeNull();
    // Untouched for over 30 minutes: closed.
    await runInDurableObject(stub, async (actor: SessionDO, s) => {
      const v = actor.visitors.get(stale.client_id);
      if (!v) throw new Error("the visitor is not in the actor");
      actor.visitors.set(stale.client_id, { ...v, last_event_at: v.last_event_at - 31 * 60_000 });
      await s.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await stored()).toMatchObject({ session: null, previous_session_id: `s_${run}-c1` });
  });

  it("writes one log row per call however many visitors it touches, and a new instance reads back every one", async () => {
    const key = `${PROPERTY}|rows-${run}`;
    const stub = env.SESSION_DO.getByName(key);
    const events = Array.from({ length: 60 }, (_, i) => ev(`r${i}`, `rower${i % 20}`, i * 1_000));
    const first = await stub.applyEvents(events, Date.now());
    // One delta row for 20 visitors, plus the alarm's row on the first call.
    expect(first.rows_written).toBe(2);
    const again = await stub.applyEvents([ev("r60", "rower0", 61_000)], Date.now());
    expect(again.rows_written).toBe(1);
    await runInDurableObject(stub, async (actor: SessionDO, s) => {
      const reread = new VisitorStore(s.storage.sql);
      expect(reread.size).toBe(20);
      expect(new Map(reread.entries())).toEqual(new Map(actor.visitors.entries()));
    });
  });

  it("keeps a property's visitors in as many session actors as its session_shards: one for a small site", async () => {
    const visitors = Array.from({ length: 12 }, (_, i) => `shard-visitor-${i}`);
    const send = (property: string, id: string) =>
      consumeMessage(
        `${run}-${id}`,
        visitors.map((v, i) => makeEvent({ property_id: property, event_id: `${run}-${id}-${i}`, client_id: v })),
      );
    const small = `UA-SHARDS-1-${run}`;
    const busy = `UA-SHARDS-4-${run}`;
    await createProperty({ property_id: small });
    await createProperty({ property_id: busy, session_shards: 4 });
    await send(small, "small");
    await send(busy, "busy");
    const held = async (property: string, shards: number) =>
      Promise.all(
        Array.from(
          { length: shards },
          async (_, b) => (await env.SESSION_DO.getByName(`${property}|${b}`).stats()).visitors,
        ),
      );
    // The default: every visitor in one actor, so a consumer batch makes one session-actor call.
    expect(await held(small, 2)).toEqual([12, 0]);
    const spread = await held(busy, 4);
    expect(spread.reduce((a, b) => a + b, 0)).toBe(12);
    expect(spread.filter((n) => n > 0).length).toBeGreaterThan(1);
    for (const v of visitors) expect(sessionActorKey(busy, v, 4)).toMatch(new RegExp(`^${busy}\\|[0-3]$`));
  });

  it("refuses /api/v1/realtime without this property's key", async () => {
    expect((await call(`/api/v1/realtime?property=${PROPERTY}`)).status).toBe(401);
  });
});
