/** Minute windows, heavy hitters and the realtime snapshot built from them. */
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import { realtimeSnapshot } from "../../core/session/realtime.ts";
import { advanceSession, EMPTY_VISITOR, type VisitorState } from "../../core/session/session.ts";
import { SpaceSaving } from "../../core/session/top-k.ts";
import {
  countEvent,
  countSessionChange,
  emptyWindow,
  inHorizon,
  loadWindow,
  type MinuteWindow,
  minuteOf,
  storeWindow,
} from "../../core/session/window.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const NOW = Date.UTC(2026, 10, 26, 10, 0, 30);
const min = 60_000;
let n = 0;

/** Feeds events through the session reducer and into windows, as the actors do. */
function feed(events: Event[]): MinuteWindow[] {
  const windows = new Map<number, MinuteWindow>();
  const visitors = new Map<string, VisitorState>();
  for (const e of events) {
    const step = advanceSession(visitors.get(e.client_id) ?? EMPTY_VISITOR, e);
    visitors.set(e.client_id, step.state);
    const w = windows.get(minuteOf(e.event_timestamp)) ?? emptyWindow(minuteOf(e.event_timestamp));
    windows.set(w.minute, w);
    countEvent(w, e, step.outcome);
    for (const change of step.emitted) {
      const start = minuteOf(change.current.started_at);
      const sw = windows.get(start) ?? emptyWindow(start);
      windows.set(start, sw);
      countSessionChange(sw, change);
    }
  }
  return [...windows.values()];
}

const ev = (ago: number, extra: Partial<Event> = {}) =>
  makeEvent({ event_id: `w${++n}`, event_timestamp: NOW - ago, ...extra });

describe("SpaceSaving", () => {
  it("keeps the heavy hitters of a skewed stream in bounded memory", () => {
    const s = new SpaceSaving(10);
    for (let i = 0; i < 10_000; i++) s.add(i % 3 === 0 ? "/" : i % 5 === 0 ? "/pricing" : `/p/${i}`);
    expect(s.top(2).map((e) => e.key)).toEqual(["/", "/pricing"]);
    expect(s.entries()).toHaveLength(10);
  });
});

describe("minute windows", () => {
  it("count pageviews, events, sessions, bounces and duration per minute, bots apart", () => {
    const windows = feed([
      ev(3 * min, { client_id: "a", page_path: "/" }),
      ev(2 * min, { client_id: "a", page_path: "/pricing" }),
      ev(2 * min, { client_id: "b", page_path: "/", source: "Google", country: "US" }),
      ev(1 * min, { client_id: "bot", is_bot: true, bot_reason: "ua_crawler" }),
    ]);
    const total = (k: "pageviews" | "events" | "sessions_started" | "bounces" | "duration_sum" | "bot_events") =>
      windows.reduce((s, w) => s + w[k], 0);
    expect([
      total("pageviews"),
      total("events"),
      total("sessions_started"),
      total("bounces"),
      total("duration_sum"),
      total("bot_events"),
    ]).toEqual([3, 3, 2, 1, 60, 1]);
  });

  it("survive storage unchanged", () => {
    const [w] = feed([ev(0, { client_id: "z", page_path: "/x" })]);
    if (!w) throw new Error("no window");
    const again = loadWindow(JSON.parse(JSON.stringify(storeWindow(w))));
    expect(storeWindow(again)).toEqual(storeWindow(w));
  });

  it("take events from the last hour (late ones in the minute they happened), not older ones", () => {
    expect(inHorizon(NOW - 59 * min, NOW)).toBe(true);
    expect(inHorizon(NOW - 61 * min, NOW)).toBe(false);
  });
});

describe("realtimeSnapshot", () => {
  it("answers the realtime shape from the windows", () => {
    const windows = feed([
      ev(1 * min, { client_id: "a", page_path: "/" }),
      ev(1 * min, { client_id: "b", page_path: "/", source: "Google", country: "US", device_type: "mobile" }),
      ev(20 * min, { client_id: "c", page_path: "/old" }),
      ev(45 * min, { client_id: "d", page_path: "/older" }),
    ]);
    const snap = realtimeSnapshot("UA-1-1", windows, NOW);
    expect(snap).toMatchObject({
      property_id: "UA-1-1",
      active_visitors: 2,
      pageviews_last_30m: 3,
      visitors_last_30m: 3,
      top_pages: [
        { page: "/", pageviews: 2 },
        { page: "/old", pageviews: 1 },
      ],
      top_sources: expect.arrayContaining([{ source: "Google", visitors: 1 }]),
    });
    expect(snap.pageviews_per_minute).toHaveLength(30);
    expect(snap.pageviews_per_minute.at(-2)).toMatchObject({ pageviews: 2, visitors: 2 });
    expect(snap.events_per_second).toBeCloseTo(2 / 60, 2);
  });
});
