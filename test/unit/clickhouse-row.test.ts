import { describe, expect, it } from "vitest";
import { EVENT_COLUMNS, toClickHouseDateTime, toClickHouseRow } from "../../core/clickhouse-row.ts";
import { makeEvent } from "../support/events.ts";

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
