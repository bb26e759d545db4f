/**
 * Live = stored at the edge of the `realtime` preset (issue #15), pure: the live leg
 * (core/query/live.ts) answers from whole minute windows, the ClickHouse leg from exact times.
 * The preset's range, now − 30 min to now, starts inside a minute; the live leg counts that whole
 * minute, ClickHouse only its part after the start, and the realtime snapshot not at all (its 30
 * minutes are whole: the current one and the 29 before).
 *
 * Known disagreement, pinned with `it.fails` until it is fixed in core/ (query/dates.ts: the preset
 * as [minute of now − 29 min, now + 1]; query/live.ts: only windows starting inside the range).
 */
import { describe, expect, it } from "vitest";
import { liveRows } from "../../core/query/live.ts";
import { normaliseQuery } from "../../core/query/normalise.ts";
import { QuerySpecSchema } from "../../core/query/spec.ts";
import { countEvent, emptyWindow, minuteOf, storeWindow } from "../../core/session/window.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const MINUTE = 60_000;
// 40 s into a minute: the preset's start is 40 s into the minute 30 minutes back.
const now = Date.UTC(2026, 11, 2, 12, 0, 40);

/** One pageview at `t`, in its minute's window. */
function windowWith(t: number) {
  const w = emptyWindow(minuteOf(t));
  countEvent(w, makeEvent({ event_timestamp: t }), { session_id: "s", is_new_session: true, is_duplicate: false });
  return storeWindow(w);
}

const realtime = () =>
  normaliseQuery(QuerySpecSchema.parse({ property_id: "UA-DEMO-1", metrics: ["pageviews"], date_range: "realtime" }), {
    propertyTimezone: "UTC",
    createdAt: 0,
    now,
    goals: [],
  });

describe("the realtime preset's live leg at its start", () => {
  it("counts a pageview just after the start, as ClickHouse does", () => {
    expect(liveRows(realtime(), [windowWith(now - 30 * MINUTE + 5_000)])).toEqual([{ pageviews: 1 }]);
  });

  it.fails("counts no pageview from before its start (ClickHouse over the same range does not)", () => {
    expect(liveRows(realtime(), [windowWith(now - 30 * MINUTE - 20_000)])).toEqual([{ pageviews: 0 }]);
  });
});
