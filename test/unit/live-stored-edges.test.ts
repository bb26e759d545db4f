/**
 * Live = stored at the edge of the `realtime` preset (issue #15), pure: the live leg
 * (core/query/live.ts) answers from whole minute windows, the ClickHouse leg from exact times.
 * The preset is whole minutes (the current one and the 29 before), as the realtime snapshot
 * counts, so a window is wholly inside or outside it; a range that cuts a minute is not live.
 */
import { describe, expect, it } from "vitest";
import { liveRows } from "../../core/query/live.ts";
import { normaliseQuery } from "../../core/query/normalise.ts";
import { planQuery } from "../../core/query/plan.ts";
import { type QuerySpecInput, QuerySpecSchema } from "../../core/query/spec.ts";
import { countEvent, emptyWindow, minuteOf, storeWindow } from "../../core/session/window.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const MINUTE = 60_000;
// 40 s into a minute: the preset starts at 11:31:00, 29 minutes before the current one.
const now = Date.UTC(2026, 11, 2, 12, 0, 40);
const start = Date.UTC(2026, 11, 2, 11, 31);

/** One pageview at `t`, in its minute's window. */
function windowWith(t: number) {
  const w = emptyWindow(minuteOf(t));
  countEvent(w, makeEvent({ event_timestamp: t }), { session_id: "s", is_new_session: true, is_duplicate: false });
  return storeWindow(w);
}

const resolve = (date_range: QuerySpecInput["date_range"]) =>
  normaliseQuery(QuerySpecSchema.parse({ property_id: "UA-DEMO-1", metrics: ["pageviews"], date_range }), {
    propertyTimezone: "UTC",
    createdAt: 0,
    now,
    goals: [],
  });

describe("the realtime preset's live leg at its start", () => {
  it("is whole minutes: the current one and the 29 before", () => {
    expect(resolve("realtime").from).toBe(start);
    expect(resolve("realtime").to).toBe(now + 1);
  });

  it("counts a pageview in its first minute, as ClickHouse does", () => {
    expect(liveRows(resolve("realtime"), [windowWith(start + 5_000)])).toEqual([{ pageviews: 1 }]);
  });

  it("counts no pageview from the minute before its start (ClickHouse over the same range does not)", () => {
    expect(liveRows(resolve("realtime"), [windowWith(start - 20_000)])).toEqual([{ pageviews: 0 }]);
  });

  it("leaves a range that cuts a minute to ClickHouse", () => {
    const cut = resolve([new Date(now - 20 * MINUTE - 15_000).toISOString(), new Date(now).toISOString()]);
    expect(planQuery(cut, now, 90).source).toBe("clickhouse");
    const whole = resolve([new Date(start).toISOString(), new Date(now + 1).toISOString()]);
    expect(planQuery(whole, now, 90).source).toBe("live");
  });
});
