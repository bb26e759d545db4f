/**
 * The hourly load's pure step (core/warehouse/load.ts): whatever order hours are loaded in, and
 * however often, the warehouse ends up holding what the session reducer computes over all events.
 * An in-memory warehouse applies each plan as consumers/warehouse-load.ts does (delete the hour,
 * the rewritten sessions' events and the touched sessions; insert the rest).
 */
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { replayChunk } from "../../core/replay/replay.ts";
import { HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import {
  type ArchivedEvent,
  chunks,
  fromWarehouseEventRow,
  hourFloor,
  neighbourWindows,
  planHourLoad,
  visitorsOf,
} from "../../core/warehouse/load.ts";
import { toWarehouseEventRow, toWarehouseSessionRow } from "../../core/warehouse/rows.ts";
import type { WarehouseEventRow, WarehouseSessionRow } from "../../core/warehouse/schema.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { prng } from "../../dev/prng.ts";

const H = Date.UTC(2026, 10, 26, 9);
const key = (p: string, id: string) => `${p}|${id}`;

/** A warehouse in memory, loaded hour by hour from an archive in memory, as the shell does it. */
class MemoryWarehouse {
  events = new Map<string, WarehouseEventRow>();
  sessions = new Map<string, WarehouseSessionRow>();
  private readonly archive: readonly ArchivedEvent[];
  constructor(archive: readonly ArchivedEvent[]) {
    this.archive = archive;
  }

  load(hour: number): void {
    const archived = this.archive.filter((a) => hourFloor(a.event.event_timestamp) === hour);
    const rows = [...this.events.values()];
    const inHour = (r: WarehouseEventRow) => hourFloor(r.event_timestamp.getTime()) === hour;
    const previous = rows.filter(inHour).map((r) => ({ property_id: r.property_id, session_id: r.session_id }));
    const visitors = visitorsOf(archived);
    const { before, after } = neighbourWindows(hour);
    const within = (t: number, [from, to]: [number, number]) => t >= from && t < to;
    const ids = new Set(
      rows
        .filter((r) => visitors.get(r.property_id)?.includes(r.client_id))
        .filter((r) => within(r.event_timestamp.getTime(), before) || within(r.event_timestamp.getTime(), after))
        .map((r) => key(r.property_id, r.session_id)),
    );
    const neighbours = rows.filter((r) => ids.has(key(r.property_id, r.session_id)) && !inHour(r));
    const plan = planHourLoad({ hour, archived, neighbours, previous });
    for (const [k, r] of this.events) if (inHour(r)) this.events.delete(k);
    for (const [p, list] of plan.rewrittenSessions)
      for (const [k, r] of this.events) if (r.property_id === p && list.includes(r.session_id)) this.events.delete(k);
    for (const [p, list] of plan.touchedSessions) for (const s of list) this.sessions.delete(key(p, s));
    for (const r of plan.events) {
      expect(this.events.has(key(r.property_id, r.event_id)), "an event inserted twice").toBe(false);
      this.events.set(key(r.property_id, r.event_id), r);
    }
    for (const s of plan.sessions) {
      expect(this.sessions.has(key(s.property_id, s.session_id)), "a session inserted twice").toBe(false);
      this.sessions.set(key(s.property_id, s.session_id), s);
    }
  }
}

/** What the reducer computes over everything at once: the warehouse must equal it. */
function expected(archive: readonly ArchivedEvent[]) {
  const sorted = [...archive].sort(
    (a, b) => a.event.event_timestamp - b.event.event_timestamp || (a.event.event_id < b.event.event_id ? -1 : 1),
  );
  const received = new Map(archive.map((a) => [a.event.event_id, a.received_at]));
  const rows = replayChunk(
    sorted.map((a) => a.event),
    new Map(),
    (e) => received.get(e.event_id) ?? 0,
  );
  return {
    events: new Map(rows.events.map((r) => [key(r.property_id, r.event_id), toWarehouseEventRow(r)])),
    sessions: new Map(
      rows.sessionLog.map((r) => [key(String(r.property_id), String(r.session_id)), toWarehouseSessionRow(r)]),
    ),
  };
}

let n = 0;
const ev = (at: number, client = "alice", extra: Partial<Event> = {}): ArchivedEvent => ({
  event: makeEvent({ event_id: `e${++n}`, client_id: client, event_timestamp: at, page_path: `/p${n}`, ...extra }),
  received_at: at + 1000,
});

describe("planHourLoad", () => {
  it("gives one hour's events the reducer's sessions", () => {
    const archive = [ev(H + 5 * MINUTE_MS), ev(H + 10 * MINUTE_MS), ev(H + 50 * MINUTE_MS), ev(H, "bob")];
    const w = new MemoryWarehouse(archive);
    w.load(H);
    expect(w.events).toEqual(expected(archive).events);
    expect(w.sessions).toEqual(expected(archive).sessions);
    expect(w.sessions.size).toBe(3);
  });

  it("makes a session crossing two hours one row, loaded in either order, with its id from the first event", () => {
    const archive = [
      ev(H - 10 * MINUTE_MS),
      ev(H + 5 * MINUTE_MS),
      ev(H + 20 * MINUTE_MS, "alice", { event_type: "click" }),
    ];
    for (const order of [
      [H - HOUR_MS, H],
      [H, H - HOUR_MS],
    ]) {
      const w = new MemoryWarehouse(archive);
      for (const hour of order) w.load(hour);
      expect([...w.sessions.values()]).toEqual([...expected(archive).sessions.values()]);
      const [session] = [...w.sessions.values()];
      expect(session).toMatchObject({ session_id: `s_${archive[0]?.event.event_id}`, events: 3, pageviews: 2 });
      expect(new Set([...w.events.values()].map((r) => r.session_id))).toEqual(new Set([session?.session_id]));
    }
  });

  it("merges two sessions when a late event bridges them, and splits nothing twice on a re-run", () => {
    const early = ev(H - 20 * MINUTE_MS);
    const later = ev(H + 25 * MINUTE_MS);
    const w = new MemoryWarehouse([early, later]);
    w.load(H - HOUR_MS);
    w.load(H);
    expect(w.sessions.size).toBe(2);
    // A late event at H+2: within 30 minutes of both; its hour H is loaded again.
    const bridge = ev(H + 2 * MINUTE_MS);
    const all = [early, later, bridge];
    const late = new MemoryWarehouse(all);
    late.events = w.events;
    late.sessions = w.sessions;
    late.load(H);
    late.load(H);
    expect(late.sessions).toEqual(expected(all).sessions);
    expect([...late.sessions.values()]).toHaveLength(1);
    expect(late.events).toEqual(expected(all).events);
  });

  it("equals the reducer over random traffic, whatever the order and repetition of hour loads", () => {
    const random = prng(16);
    for (let round = 0; round < 30; round++) {
      const archive: ArchivedEvent[] = [];
      for (let i = 0; i < 60; i++) {
        const client = `c${Math.floor(random() * 4)}`;
        const property = random() < 0.8 ? "UA-1-1" : "UA-2-1";
        const at = H - HOUR_MS + Math.floor(random() * 4 * HOUR_MS);
        archive.push(ev(at, client, { property_id: property, event_type: random() < 0.7 ? "pageview" : "click" }));
      }
      const hours = [...new Set(archive.map((a) => hourFloor(a.event.event_timestamp)))];
      const order = [...hours, ...hours].sort(() => random() - 0.5);
      const w = new MemoryWarehouse(archive);
      for (const hour of order) w.load(hour);
      const want = expected(archive);
      expect(w.events).toEqual(want.events);
      expect(w.sessions).toEqual(want.sessions);
    }
  });

  it("says which sessions it rewrites and replaces, by property", () => {
    const archive = [ev(H - 10 * MINUTE_MS), ev(H + 5 * MINUTE_MS)];
    const w = new MemoryWarehouse(archive);
    w.load(H - HOUR_MS);
    const neighbours = [...w.events.values()];
    const plan = planHourLoad({
      hour: H,
      archived: archive.slice(1),
      neighbours,
      previous: [{ property_id: "UA-DEMO-1", session_id: "s_old" }],
    });
    const id = `s_${archive[0]?.event.event_id}`;
    expect(plan.rewrittenSessions).toEqual(new Map([["UA-DEMO-1", [id]]]));
    expect(plan.touchedSessions).toEqual(new Map([["UA-DEMO-1", [id, "s_old"].sort()]]));
    expect(plan.events.map((r) => r.session_id)).toEqual([id, id]);
  });
});

describe("the load's helpers", () => {
  it("reads a warehouse row back as the event it was loaded from", () => {
    const a = ev(H, "alice", {
      user_id: "u1",
      custom_dimensions: { plan: "pro" },
      custom_metrics: { revenue: 9.5 },
      referrer: "https://news.example/",
    });
    const row = planHourLoad({ hour: H, archived: [a], neighbours: [], previous: [] }).events[0] as WarehouseEventRow;
    expect(fromWarehouseEventRow(row)).toEqual(a);
    // PostgreSQL's JSON type comes back parsed: the same event.
    expect(fromWarehouseEventRow({ ...row, custom_dimensions: { plan: "pro" } as unknown as string })).toEqual(a);
    const bare = ev(H);
    const bareRow = planHourLoad({ hour: H, archived: [bare], neighbours: [], previous: [] })
      .events[0] as WarehouseEventRow;
    expect(fromWarehouseEventRow(bareRow).event.user_id).toBeUndefined();
    expect(fromWarehouseEventRow(bareRow).event.custom_metrics).toBeUndefined();
  });

  it("reads neighbours in the session timeout on either side of the hour", () => {
    expect(neighbourWindows(H)).toEqual({
      before: [H - 30 * MINUTE_MS, H],
      after: [H + HOUR_MS, H + HOUR_MS + 30 * MINUTE_MS],
    });
    expect(hourFloor(H + 59 * MINUTE_MS)).toBe(H);
    expect(hourFloor(H - 1)).toBe(H - HOUR_MS);
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(visitorsOf([ev(H, "b"), ev(H, "a"), ev(H, "a", { property_id: "UA-2-1" })])).toEqual(
      new Map([
        ["UA-DEMO-1", ["a", "b"]],
        ["UA-2-1", ["a"]],
      ]),
    );
  });
});
