import { describe, expect, it } from "vitest";
import { MAX_EVENTS_PER_REQUEST, type ParseOptions, parseCollectBody } from "../../core/ingest/collect-batch.ts";

const now = Date.UTC(2026, 10, 26, 10, 0, 0);
let counter = 0;
const options: ParseOptions = { nowMs: now, newId: () => `id-${++counter}`, enforceWindow: true, bodyBytes: 1000 };
const event = (n: number) => ({
  property_id: "UA-DEMO-1",
  client_id: `c${n}`,
  event_type: "pageview",
  page_url: `https://example.com/${n}`,
});

function accepted(body: unknown, opts: Partial<ParseOptions> = {}) {
  const parsed = parseCollectBody(body, { ...options, ...opts });
  if (!parsed.ok) throw new Error(`refused: ${JSON.stringify(parsed.issues)}`);
  return parsed.candidates;
}

describe("parseCollectBody", () => {
  it.each([
    ["one event", event(1), 1],
    ["an array", [event(1), event(2)], 2],
    ['{"events":[…]}', { events: [event(1), event(2), event(3)] }, 3],
  ])("accepts %s", (_shape, body, count) => {
    const candidates = accepted(body);
    expect(candidates).toHaveLength(count);
    expect(candidates.map((c) => (c.ok ? c.input.client_id : null))).toEqual(
      Array.from({ length: count }, (_, i) => `c${i + 1}`),
    );
  });

  it(`accepts exactly ${MAX_EVENTS_PER_REQUEST} events and refuses one more`, () => {
    const max = Array.from({ length: MAX_EVENTS_PER_REQUEST }, (_, i) => event(i));
    expect(accepted(max)).toHaveLength(MAX_EVENTS_PER_REQUEST);
    expect(parseCollectBody([...max, event(99)], options)).toMatchObject({ ok: false, code: "too_many_events" });
  });

  it("judges each event on its own, naming the index and field of each bad one", () => {
    const candidates = accepted([event(0), { ...event(1), page_url: "nope" }, { ...event(2), client_id: 7 }]);
    expect(candidates.map((c) => c.ok)).toEqual([true, false, false]);
    expect(candidates.flatMap((c) => (c.ok ? [] : c.issues.map((i) => i.path)))).toEqual([
      "events[1].page_url",
      "events[2].client_id",
    ]);
  });

  it.each([
    ["73 hours ago", now - 73 * 3600_000, "72 hours in the past"],
    ["6 minutes ahead", now + 6 * 60_000, "5 minutes in the future"],
  ])("refuses a timestamp %s on public endpoints", (_when, ts, message) => {
    const [candidate] = accepted({ ...event(1), event_timestamp: ts });
    expect(candidate).toMatchObject({ ok: false, code: "timestamp_out_of_range" });
    if (candidate && !candidate.ok) expect(candidate.issues[0]?.message).toContain(message);
  });

  it("takes any timestamp when the window is off (import)", () => {
    const [candidate] = accepted({ ...event(1), event_timestamp: "2021-01-01T00:00:00Z" }, { enforceWindow: false });
    expect(candidate).toMatchObject({ ok: true, event_timestamp: Date.UTC(2021, 0, 1) });
  });

  it("accepts events up to the edges of the window", () => {
    const candidates = accepted([
      { ...event(1), event_timestamp: now - 71 * 3600_000 },
      { ...event(2), event_timestamp: now + 4 * 60_000 },
    ]);
    expect(candidates.every((c) => c.ok)).toBe(true);
  });

  it("refuses an event over 32 KB by itself", () => {
    const big = { ...event(1), page_title: "x".repeat(40_000) };
    const candidates = accepted([event(0), big], { bodyBytes: 40_000 });
    expect(candidates.map((c) => (c.ok ? "ok" : c.code))).toEqual(["ok", "event_too_large"]);
  });

  it.each([
    ["an empty array", [], "events"],
    ["events that is not an array", { events: "x" }, "events"],
    ["a field beside events", { events: [event(1)], extra: 1 }, "extra"],
    ["a bare string", "pageview", ""],
    ["a number", 42, ""],
    ["null", null, ""],
  ])("refuses %s", (_name, body, path) => {
    const parsed = parseCollectBody(body, options);
    expect(parsed).toMatchObject({ ok: false, code: "invalid_body" });
    if (!parsed.ok) expect(parsed.issues[0]?.path).toBe(path);
  });
});
