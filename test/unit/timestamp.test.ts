import { describe, expect, it } from "vitest";
import { parseTimestamp } from "../../core/ingest/timestamp.ts";

const NOV_26 = Date.UTC(2026, 10, 26, 9, 30, 0);

describe("parseTimestamp", () => {
  it.each([
    ["epoch seconds", NOV_26 / 1000, NOV_26],
    ["fractional epoch seconds", NOV_26 / 1000 + 0.25, NOV_26 + 250],
    ["epoch milliseconds", NOV_26, NOV_26],
    ["numeric text in seconds", String(NOV_26 / 1000), NOV_26],
    ["ISO 8601 with Z", "2026-11-26T09:30:00Z", NOV_26],
    ["ISO 8601 with milliseconds", "2026-11-26T09:30:00.123Z", NOV_26 + 123],
    ["ISO 8601 with an offset", "2026-11-26T10:30:00+01:00", NOV_26],
    ["ISO 8601 without a zone, read as UTC", "2026-11-26T09:30:00", NOV_26],
    ["a date alone, midnight UTC", "2026-11-26", Date.UTC(2026, 10, 26)],
  ])("reads %s", (_name, input, expected) => {
    expect(parseTimestamp(input)).toEqual({ ok: true, ms: expected });
  });

  it.each([
    ["NaN", Number.NaN, "finite"],
    ["Infinity", Number.POSITIVE_INFINITY, "finite"],
    ["free text", "yesterday", "ISO 8601"],
    ["an impossible date", "2026-02-31T00:00:00Z", ""],
    ["a time before 2000", "1999-12-31T23:59:59Z", "between"],
    ["a time after 2100", 4_200_000_000_000, "between"],
    ["zero", 0, "between"],
  ])("rejects %s", (_name, input, reason) => {
    const result = parseTimestamp(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });
});
