/**
 * digest-period: which week or month a scheduled digest reports, in the property's time zone, and
 * when it becomes due (06:00 local on the Monday or the 1st after it), never twice.
 */
import { describe, expect, it } from "vitest";
import { duePeriod, isoWeekName, lastCompletePeriod } from "../../core/digest/period.ts";

const at = (iso: string) => Date.parse(iso);

describe("lastCompletePeriod", () => {
  it("names the last Monday–Sunday as its ISO week, with the week before for comparison", () => {
    expect(lastCompletePeriod("weekly", "UTC", at("2026-11-30T07:10:00Z"))).toEqual({
      frequency: "weekly",
      name: "2026-W48",
      from: "2026-11-23",
      to: "2026-11-29",
      previous: { from: "2026-11-16", to: "2026-11-22" },
      due_at: at("2026-11-30T06:00:00Z"),
    });
  });

  it("is the same week on any day of the following week, Sunday night included", () => {
    for (const now of ["2026-12-01T12:00:00Z", "2026-12-06T23:59:59Z"])
      expect(lastCompletePeriod("weekly", "UTC", at(now)).name).toBe("2026-W48");
  });

  it("counts days in the property's time zone, not UTC", () => {
    // Monday 03:00 UTC is still Sunday evening in Los Angeles: the last complete week there is W47.
    const period = lastCompletePeriod("weekly", "America/Los_Angeles", at("2026-11-30T03:00:00Z"));
    expect(period).toMatchObject({ name: "2026-W47", from: "2026-11-16", to: "2026-11-22" });
    expect(period.due_at).toBe(at("2026-11-23T14:00:00Z")); // 06:00 PST
  });

  it("names the previous calendar month, compared with the whole month before it", () => {
    expect(lastCompletePeriod("monthly", "UTC", at("2026-12-15T00:00:00Z"))).toEqual({
      frequency: "monthly",
      name: "2026-11",
      from: "2026-11-01",
      to: "2026-11-30",
      previous: { from: "2026-10-01", to: "2026-10-31" },
      due_at: at("2026-12-01T06:00:00Z"),
    });
    expect(lastCompletePeriod("monthly", "UTC", at("2027-01-05T12:00:00Z"))).toMatchObject({
      name: "2026-12",
      from: "2026-12-01",
      to: "2026-12-31",
      previous: { from: "2026-11-01", to: "2026-11-30" },
    });
    expect(lastCompletePeriod("monthly", "UTC", at("2028-03-02T12:00:00Z"))).toMatchObject({
      name: "2028-02",
      to: "2028-02-29",
      previous: { from: "2028-01-01", to: "2028-01-31" },
    });
  });

  it("puts 06:00 on the wall clock across a daylight-saving change", () => {
    // Berlin moved to CEST (UTC+2) on Sunday 29 March 2026.
    expect(lastCompletePeriod("weekly", "Europe/Berlin", at("2026-03-30T12:00:00Z")).due_at).toBe(
      at("2026-03-30T04:00:00Z"),
    );
  });
});

describe("isoWeekName", () => {
  it.each([
    ["2026-11-23", "2026-W48"],
    ["2026-12-28", "2026-W53"],
    ["2027-01-04", "2027-W01"],
    ["2025-12-29", "2026-W01"],
    ["2020-12-28", "2020-W53"],
    ["2026-03-23", "2026-W13"],
  ])("names the week starting %s %s (the year its Thursday is in)", (monday, name) => {
    const [y, m, d] = monday.split("-").map(Number) as [number, number, number];
    expect(isoWeekName({ y, m, d })).toBe(name);
  });
});

describe("duePeriod", () => {
  const weekly = { frequency: "weekly" as const, last_period: null };

  it("is due from 06:00 local time on the Monday after the week, not a minute before", () => {
    expect(duePeriod(weekly, "Europe/Berlin", at("2026-11-30T04:59:00Z"))).toBeUndefined(); // 05:59 CET
    expect(duePeriod(weekly, "Europe/Berlin", at("2026-11-30T05:00:00Z"))?.name).toBe("2026-W48"); // 06:00 CET
  });

  it("is not due again once the digest recorded that period", () => {
    const sent = { frequency: "weekly" as const, last_period: "2026-W48" };
    expect(duePeriod(sent, "UTC", at("2026-11-30T07:10:00Z"))).toBeUndefined();
    expect(duePeriod(sent, "UTC", at("2026-12-03T07:10:00Z"))).toBeUndefined();
    expect(duePeriod(sent, "UTC", at("2026-12-07T07:10:00Z"))?.name).toBe("2026-W49");
  });

  it("catches up later in the week when the Monday runs were missed or failed", () => {
    const older = { frequency: "weekly" as const, last_period: "2026-W46" };
    expect(duePeriod(older, "UTC", at("2026-12-02T15:10:00Z"))?.name).toBe("2026-W48");
  });

  it("sends a monthly digest from 06:00 on the 1st, in the property's zone", () => {
    const monthly = { frequency: "monthly" as const, last_period: "2026-10" };
    expect(duePeriod(monthly, "UTC", at("2026-12-01T05:30:00Z"))).toBeUndefined();
    expect(duePeriod(monthly, "Asia/Tokyo", at("2026-12-01T05:30:00Z"))?.name).toBe("2026-11"); // 14:30 JST
    expect(duePeriod({ ...monthly, last_period: "2026-11" }, "Asia/Tokyo", at("2026-12-01T05:30:00Z"))).toBeUndefined();
  });
});
