/** The session reducer: windows, order, duplicates, bounce and duration — the rules of issue #4. */
import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import {
  advanceSession,
  durationSeconds,
  EMPTY_VISITOR,
  expired,
  isBounce,
  netSessionChanges,
  SESSION_TIMEOUT_MS,
  type SessionChange,
  type VisitorState,
} from "../../core/session/session.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const T0 = Date.UTC(2026, 10, 26, 9, 0);
const min = 60_000;
let n = 0;
const ev = (at: number, extra: Partial<Event> = {}) =>
  makeEvent({ event_id: `e${++n}`, event_timestamp: T0 + at, ...extra });

function run(events: Event[]) {
  let state: VisitorState = EMPTY_VISITOR;
  const outcomes = [];
  for (const e of events) {
    const step = advanceSession(state, e);
    state = step.state;
    outcomes.push(step.outcome);
  }
  return { state, outcomes };
}

describe("advanceSession", () => {
  it("keeps events within 30 minutes of each other in one session", () => {
    const { state, outcomes } = run([
      ev(0, { page_path: "/a" }),
      ev(10 * min, { page_path: "/b" }),
      ev(39 * min, { page_path: "/c" }),
    ]);
    expect(outcomes.map((o) => o.is_new_session)).toEqual([true, false, false]);
    expect(new Set(outcomes.map((o) => o.session_id)).size).toBe(1);
    expect(state.session).toMatchObject({ pageviews: 3, events: 3, entry_page: "/a", exit_page: "/c", version: 3 });
    expect(durationSeconds(state.session ?? expect.fail())).toBe(39 * 60);
  });

  it("starts a new session after 30 minutes without events", () => {
    const { outcomes } = run([ev(0), ev(SESSION_TIMEOUT_MS + 1)]);
    expect(outcomes.map((o) => o.is_new_session)).toEqual([true, true]);
    expect(outcomes[0]?.session_id).not.toBe(outcomes[1]?.session_id);
  });

  it("places an out-of-order event by its own time: entry page, start and acquisition move back", () => {
    const first = ev(10 * min, { page_path: "/late-seen", source: "", channel: "Direct" });
    const earlier = ev(2 * min, { page_path: "/landing", source: "Google", channel: "Organic Search" });
    const { state } = run([first, earlier]);
    expect(state.session).toMatchObject({
      started_at: T0 + 2 * min,
      entry_page: "/landing",
      exit_page: "/late-seen",
      source: "Google",
      channel: "Organic Search",
    });
  });

  it("takes a visit's device, geography, language and screen from the event that opened it", () => {
    const opening = ev(0, {
      browser_version: "131",
      os_version: "10",
      screen_resolution: "1920x1080",
      language: "de-DE",
      region: "Berlin",
      city: "Berlin",
    });
    const later = ev(1 * min, {
      browser_version: "132",
      os_version: "11",
      screen_resolution: "1280x720",
      language: "en-US",
      region: "Bavaria",
      city: "Munich",
    });
    const { state } = run([opening, later]);
    expect(state.session).toMatchObject({
      browser_version: "131",
      os_version: "10",
      screen_resolution: "1920x1080",
      language: "de-DE",
      region: "Berlin",
      city: "Berlin",
    });
    const { screen_resolution: _, language: __, ...bare } = opening;
    expect(run([bare]).state.session).toMatchObject({ screen_resolution: "", language: "" });
  });

  it("lets a late earlier hit name the acquisition (utm_term and utm_content too) and the entry's hostname", () => {
    const first = ev(10 * min, { page_host: "app.example.com", utm_term: "", utm_content: "" });
    const earlier = ev(2 * min, {
      page_host: "www.example.com",
      utm_source: "newsletter",
      utm_term: "analytics",
      utm_content: "banner",
    });
    const after = ev(12 * min, { page_host: "docs.example.com", utm_term: "other", utm_content: "other" });
    const { state } = run([first, earlier, after]);
    expect(state.session).toMatchObject({
      hostname: "www.example.com",
      utm_source: "newsletter",
      utm_term: "analytics",
      utm_content: "banner",
    });
  });

  it("gives a session opened by a custom event the host of that event until a pageview becomes its entry", () => {
    const custom = ev(0, { event_type: "signup", page_host: "app.example.com" });
    expect(run([custom]).state.session?.hostname).toBe("app.example.com");
    const { state } = run([custom, ev(1 * min, { page_host: "www.example.com" })]);
    expect(state.session).toMatchObject({ hostname: "www.example.com", entry_page: "/" });
  });

  it("recognises a duplicate event id and changes nothing", () => {
    const e = ev(0);
    const { state, outcomes } = run([e, ev(1 * min), { ...e }]);
    expect(outcomes[2]).toMatchObject({ is_duplicate: true, is_new_session: false });
    expect(state.session?.events).toBe(2);
  });

  it("gives an event older than the window a session of its own, leaving the open one as it was", () => {
    const { state, outcomes } = run([ev(120 * min), ev(0)]);
    expect(outcomes[1]?.is_new_session).toBe(true);
    expect(state.session?.started_at).toBe(T0 + 120 * min);
  });

  it("counts a bounce as exactly one pageview and no interactive event", () => {
    expect(isBounce(run([ev(0)]).state.session ?? expect.fail())).toBe(true);
    expect(isBounce(run([ev(0), ev(1 * min, { event_type: "signup" })]).state.session ?? expect.fail())).toBe(false);
    // Plausible's engagement events (i: false) do not end a bounce.
    expect(
      isBounce(
        run([ev(0), ev(1 * min, { event_type: "engagement", interactive: false })]).state.session ?? expect.fail(),
      ),
    ).toBe(true);
    expect(isBounce(run([ev(0), ev(1 * min)]).state.session ?? expect.fail())).toBe(false);
  });

  it("decides by event time alone: a visit processed a day late is one session, as it was live", () => {
    const events = [ev(0), ev(5 * min), ev(7 * min)];
    const { state, outcomes } = run(events);
    expect(state.session?.session_id).toBe(`s_${events[0]?.event_id}`);
    expect(outcomes.map((o) => o.is_new_session)).toEqual([true, false, false]);
  });

  it("reports sessions past their timeout as expired", () => {
    const { state } = run([ev(0)]);
    expect(expired(state, T0 + 29 * min)).toBe(false);
    expect(expired(state, T0 + 31 * min)).toBe(true);
  });
});

describe("netSessionChanges", () => {
  it("folds a batch's changes into one per session: the first previous and the last current", () => {
    const events = [ev(0), ev(1 * min), ev(2 * min)];
    let state: VisitorState = EMPTY_VISITOR;
    const changes: SessionChange[] = [];
    for (const e of events) {
      const step = advanceSession(state, e);
      state = step.state;
      changes.push(...step.emitted);
    }
    const other = advanceSession(EMPTY_VISITOR, ev(0, { client_id: "c2" })).emitted;
    const net = netSessionChanges([...changes.slice(1), ...other]);
    expect(net).toEqual([
      { previous: changes[1]?.previous, current: changes[2]?.current },
      { previous: null, current: other[0]?.current },
    ]);
    expect(net[0]?.previous?.version).toBe(1);
    expect(net[0]?.current.version).toBe(3);
    expect(netSessionChanges(changes)).toEqual([{ previous: null, current: changes[2]?.current }]);
  });

  it("keeps two properties' sessions apart when their first events share an id (one export imported into both)", () => {
    const first = makeEvent({ property_id: "P-A", client_id: "c1", event_id: "shared-1", event_timestamp: T0 });
    const a = advanceSession(EMPTY_VISITOR, first).emitted;
    const b = advanceSession(EMPTY_VISITOR, { ...first, property_id: "P-B" }).emitted;
    expect(a[0]?.current.session_id).toBe(b[0]?.current.session_id);
    const net = netSessionChanges([...a, ...b]);
    expect(net.map((c) => c.current.property_id)).toEqual(["P-A", "P-B"]);
  });
});

describe("visitor state storage", () => {
  it("round-trips and stays within 500 bytes for a typical active session", async () => {
    const { encodeVisitor, decodeVisitor } = await import("../../core/session/codec.ts");
    const events = Array.from({ length: 40 }, (_, i) =>
      ev(i * 20_000, {
        page_path: `/docs/section-${i}/page`,
        source: "Google",
        channel: "Organic Search",
        event_id: `0196f2c0-8c6a-7d1e-9a2b-${String(i).padStart(12, "0")}`,
      }),
    );
    const { state } = run(events);
    const text = encodeVisitor(state);
    expect(decodeVisitor(text)).toEqual(state);
    expect(text.length).toBeLessThanOrEqual(500);
  });

  it("decodes a state stored before the visit dimensions were added, with those fields empty", async () => {
    const { encodeVisitor, decodeVisitor } = await import("../../core/session/codec.ts");
    const { state } = run([ev(0, { language: "de-DE", screen_resolution: "1920x1080" })]);
    const [values, previous, recent] = JSON.parse(encodeVisitor(state)) as [unknown[], string, string];
    // Stored sessions ended at `version` (25 fields) until hostname … city were appended.
    const stored = JSON.stringify([values.slice(0, 25), previous, recent]);
    const added = ["hostname", "utm_term", "utm_content", "browser_version", "os_version"];
    const more = ["screen_resolution", "language", "region", "city"];
    const blank = Object.fromEntries([...added, ...more].map((f) => [f, ""]));
    expect(decodeVisitor(stored)).toEqual({ ...state, session: { ...state.session, ...blank } });
  });
});
