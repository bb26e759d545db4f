/** core/replay/live-overlap.ts: which session_log rows a replay step adds so the live path's share nets to zero. */
import { describe, expect, it } from "vitest";
import { type SessionLogRow, toSessionLogRow } from "../../core/clickhouse-row.ts";
import { cancelLive, type LoggedRow } from "../../core/replay/live-overlap.ts";
import { advanceSession, EMPTY_VISITOR, type Session } from "../../core/session/session.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

/** One visitor's session after each of `n` events a minute apart: versions of one session. */
function versions(n: number): Session[] {
  let state = EMPTY_VISITOR;
  const out: Session[] = [];
  for (let i = 0; i < n; i++) {
    state = advanceSession(
      state,
      makeEvent({ event_id: `e${i}`, event_timestamp: Date.UTC(2026, 10, 1, 10, i) }),
    ).state;
    if (state.session) out.push(state.session);
  }
  return out;
}

const logged = (s: Session, sign: number): LoggedRow => ({ ...toSessionLogRow(s, 1), sign });
const row = (s: Session, sign: 1 | -1): SessionLogRow => toSessionLogRow(s, sign);

describe("cancelLive", () => {
  const [v1, v2, v3] = versions(3) as [Session, Session, Session];

  it("adds nothing when only the replay's own earlier version is logged", () => {
    expect(cancelLive([row(v1, -1), row(v2, 1)], [logged(v1, 1)])).toEqual([]);
  });

  it("cancels a version the live path logged, next to the replay's own", () => {
    expect(cancelLive([row(v1, -1), row(v3, 1)], [logged(v1, 1), logged(v2, 1)])).toEqual([row(v2, -1)]);
  });

  it("cancels a live -1 of a version the clear removed, and a version logged twice", () => {
    expect(cancelLive([row(v3, 1)], [logged(v1, -1), logged(v2, 2)])).toEqual([row(v1, 1), row(v2, -1), row(v2, -1)]);
  });
});
