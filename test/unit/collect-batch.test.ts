import { describe, expect, it } from "vitest";
import { MAX_EVENTS_PER_REQUEST, parseCollectBody } from "../../core/collect-batch.ts";

const now = Date.UTC(2026, 10, 26, 10, 0, 0);
let counter = 0;
const newId = () => `id-${++counter}`;
const event = (n: number) => ({
  property_id: "UA-DEMO-1",
  client_id: `c${n}`,
  event_type: "pageview",
  page_url: `https://example.com/${n}`,
});

describe("parseCollectBody", () => {
  it.each([
    ["one event", event(1), 1],
    ["an array", [event(1), event(2)], 2],
    ['{"events":[…]}', { events: [event(1), event(2), event(3)] }, 3],
  ])("accepts %s", (_shape, body, count) => {
    const parsed = parseCollectBody(body, now, newId);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) {
      expect(parsed.events).toHaveLength(count);
      expect(parsed.events.map((e) => e.client_id)).toEqual(Array.from({ length: count }, (_, i) => `c${i + 1}`));
    }
  });

  it(`accepts exactly ${MAX_EVENTS_PER_REQUEST} events and refuses one more`, () => {
    const max = Array.from({ length: MAX_EVENTS_PER_REQUEST }, (_, i) => event(i));
    expect(parseCollectBody(max, now, newId).ok).toBe(true);
    const over = parseCollectBody([...max, event(99)], now, newId);
    expect(over).toMatchObject({ ok: false, code: "too_many_events" });
  });

  it("names the index and field of every invalid event", () => {
    const parsed = parseCollectBody(
      [event(0), { ...event(1), page_url: "nope" }, { ...event(2), client_id: 7 }],
      now,
      newId,
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.code).toBe("invalid_event");
      expect(parsed.issues.map((i) => i.path)).toEqual(["events[1].page_url", "events[2].client_id"]);
    }
  });

  it.each([
    ["an empty array", [], "events"],
    ["events that is not an array", { events: "x" }, "events"],
    ["a field beside events", { events: [event(1)], extra: 1 }, "extra"],
    ["a bare string", "pageview", ""],
    ["a number", 42, ""],
    ["null", null, ""],
  ])("refuses %s", (_name, body, path) => {
    const parsed = parseCollectBody(body, now, newId);
    expect(parsed).toMatchObject({ ok: false, code: "invalid_body" });
    if (!parsed.ok) expect(parsed.issues[0]?.path).toBe(path);
  });
});
