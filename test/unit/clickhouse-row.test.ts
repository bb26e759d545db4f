import { describe, expect, it } from "vitest";
import {
  EVENT_COLUMNS,
  SESSION_COLUMNS,
  SESSION_LOG_COLUMNS,
  toClickHouseDateTime,
  toClickHouseRow,
  toSessionLogRow,
  toSessionRow,
} from "../../core/clickhouse-row.ts";
import { advanceSession, EMPTY_VISITOR, type Session } from "../../core/session/session.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

describe("toClickHouseRow", () => {
  const event = makeEvent({ event_timestamp: Date.UTC(2026, 10, 26, 9, 30, 0, 123) });

  it("fills every column, with empty values for absent optional fields", () => {
    const row = toClickHouseRow(event, Date.UTC(2026, 10, 26, 9, 30, 1));
    expect(Object.keys(row).sort()).toEqual(Object.keys(EVENT_COLUMNS).sort());
    expect(row).toMatchObject({
      event_timestamp: "2026-11-26 09:30:00.123",
      received_at: "2026-11-26 09:30:01.000",
      user_id: "",
      session_id: "",
      custom_dimensions: {},
      custom_metrics: {},
      interactive: true,
      asn: 3320,
      is_bot: false,
    });
  });

  it("formats DateTime64(3) text in UTC", () => {
    expect(toClickHouseDateTime(0 + Date.UTC(2000, 0, 1))).toBe("2000-01-01 00:00:00.000");
  });
});

describe("toSessionRow and toSessionLogRow", () => {
  const opened = (extra = {}): Session => {
    const e = makeEvent({ event_timestamp: Date.UTC(2026, 10, 26, 9, 30), language: "de-DE", ...extra });
    return advanceSession(EMPTY_VISITOR, e).state.session ?? expect.fail();
  };

  it("fills every sessions column, in table order, with the visit dimensions", () => {
    const row = toSessionRow(opened({ utm_term: "shoes", screen_resolution: "1920x1080" }));
    expect(Object.keys(row)).toEqual(Object.keys(SESSION_COLUMNS));
    expect(row).toMatchObject({
      opened_at: "2026-11-26 09:30:00.000",
      is_bounce: true,
      duration: 0,
      hostname: "example.com",
      utm_term: "shoes",
      browser_version: "131",
      os_version: "10",
      screen_resolution: "1920x1080",
      language: "de-DE",
      region: "Berlin",
      city: "Berlin",
      version: 1,
    });
  });

  it("adds the sign last, as session_log's last column", () => {
    const session = opened();
    const row = toSessionLogRow(session, -1);
    expect(Object.keys(row)).toEqual(Object.keys(SESSION_LOG_COLUMNS));
    expect(row).toEqual({ ...toSessionRow(session), sign: -1 });
    expect(toSessionLogRow(session, 1).sign).toBe(1);
  });
});
