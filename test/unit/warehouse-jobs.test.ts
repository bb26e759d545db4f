/** The warehouse jobs' pure rules (core/warehouse/jobs.ts) and the backfill's contract (core/warehouse/backfill.ts). */
import { describe, expect, it } from "vitest";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { BackfillSpecSchema, backfillHours, backfillStatusFor } from "../../core/warehouse/backfill.ts";
import {
  dayOf,
  daysOf,
  dueDays,
  errorDetail,
  finishedRow,
  hoursIn,
  hoursOfDay,
  isClosedHour,
  lastClosedHour,
  lateHours,
  nextFrontier,
  runningRow,
  scheduledHours,
} from "../../core/warehouse/jobs.ts";

const H = Date.UTC(2026, 10, 26, 9);

describe("closed and late hours", () => {
  it("closes an hour five minutes after it ends, as compaction does", () => {
    expect(isClosedHour(H, H + HOUR_MS + 5 * MINUTE_MS)).toBe(true);
    expect(isClosedHour(H, H + HOUR_MS + 5 * MINUTE_MS - 1)).toBe(false);
    expect(lastClosedHour(H + HOUR_MS + 5 * MINUTE_MS)).toBe(H);
    expect(lastClosedHour(H + HOUR_MS + 4 * MINUTE_MS)).toBe(H - HOUR_MS);
  });

  it("names the closed hours of late events once each, in order; current events name none", () => {
    const now = H + 3 * HOUR_MS + 2 * MINUTE_MS;
    const times = [H + 5, H - 200 * DAY_MS + 7, H + 30 * MINUTE_MS, H + 2 * HOUR_MS + 1, now - MINUTE_MS];
    // H+2h ended 2 minutes ago (not closed); the current hour is not late.
    expect(lateHours(times, now)).toEqual([H - 200 * DAY_MS, H]);
    expect(lateHours([now, now - 10 * MINUTE_MS], now)).toEqual([]);
  });

  it("lists hours and days", () => {
    expect(hoursIn(H, H + 3 * HOUR_MS)).toEqual([H, H + HOUR_MS, H + 2 * HOUR_MS]);
    expect(hoursIn(H + 1, H + 2 * HOUR_MS)).toEqual([H + HOUR_MS]);
    expect(hoursOfDay("2026-11-26")).toHaveLength(24);
    expect(hoursOfDay("2026-11-26")[0]).toBe(Date.UTC(2026, 10, 26));
    expect(dayOf(H)).toBe("2026-11-26");
    expect(daysOf([H + DAY_MS, H, H + 1])).toEqual(["2026-11-26", "2026-11-27"]);
  });
});

describe("the schedule's frontier", () => {
  it("loads the closed hours from the frontier on that are not done, oldest first", () => {
    const now = H + 4 * HOUR_MS + 10 * MINUTE_MS;
    const done = new Set([H + HOUR_MS]);
    expect(scheduledHours(H, done, now)).toEqual([H, H + 2 * HOUR_MS, H + 3 * HOUR_MS]);
  });

  it("stops at the first hour not done, so a failed hour is tried again by the next run", () => {
    const limit = H + 5 * HOUR_MS;
    expect(nextFrontier(H, new Set([H, H + HOUR_MS, H + 3 * HOUR_MS]), limit)).toBe(H + 2 * HOUR_MS);
    expect(nextFrontier(H, new Set([0, 1, 2, 3, 4, 5].map((i) => H + i * HOUR_MS)), limit)).toBe(limit);
    expect(nextFrontier(H, new Set(), limit)).toBe(H);
  });

  it("aggregates a day once all 24 hours are loaded and its aggregates are not done", () => {
    const loaded = new Map([
      ["2026-11-24", 24],
      ["2026-11-25", 24],
      ["2026-11-26", 23],
    ]);
    expect(dueDays(loaded, new Set(["2026-11-24"]))).toEqual(["2026-11-25"]);
  });
});

describe("ledger rows", () => {
  it("starts running and finishes done or failed, the detail within its column", () => {
    const row = runningRow("warehouse_load", [H, H + HOUR_MS], H + 2 * HOUR_MS);
    expect(row).toEqual({
      job: "warehouse_load",
      period_start: new Date(H),
      period_end: new Date(H + HOUR_MS),
      status: "running",
      started_at: new Date(H + 2 * HOUR_MS),
      finished_at: null,
      rows_written: 0,
      detail: "",
    });
    const done = finishedRow(row, "failed", H + 3 * HOUR_MS, 0, "x".repeat(5000));
    expect(done).toMatchObject({ status: "failed", finished_at: new Date(H + 3 * HOUR_MS) });
    expect(done.detail).toHaveLength(4096);
    expect(errorDetail(new TypeError("boom"))).toBe("TypeError: boom");
  });
});

describe("the backfill's request", () => {
  const issues = (body: unknown) =>
    BackfillSpecSchema.safeParse(body).error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`) ?? [];

  it("accepts a range of days, a property and force", () => {
    expect(BackfillSpecSchema.parse({ from: "2026-01-01", to: "2026-03-31" })).toEqual({
      from: "2026-01-01",
      to: "2026-03-31",
      force: false,
    });
    expect(BackfillSpecSchema.parse({ from: "2026-01-01", to: "2026-01-01", property: "UA-1-1", force: true })).toEqual(
      { from: "2026-01-01", to: "2026-01-01", property: "UA-1-1", force: true },
    );
  });

  it("names the field that is wrong", () => {
    expect(issues({ to: "2026-03-31" })).toEqual(["from: is required: a UTC date such as 2026-01-01"]);
    expect(issues({ from: "2026-02-30", to: "2026-03-31" })).toEqual([
      "from: must be a calendar date such as 2026-01-01",
    ]);
    expect(issues({ from: "2026-04-01", to: "2026-03-31" })).toEqual(["from: must not be after to"]);
    expect(issues({ from: "2024-01-01", to: "2026-03-31" })).toEqual([
      "to: a backfill spans at most 800 days; run several",
    ]);
    expect(issues({ from: "2026-01-01", to: "2026-01-02", property: "a b" })).toEqual([
      "property: must look like UA-12345-1 or a 3-64 character slug",
    ]);
    expect(issues({ from: "2026-01-01", to: "2026-01-02", force: "yes" })).toEqual(["force: must be true or false"]);
    expect(issues({ from: "2026-01-01", to: "2026-01-02", target: "x" })[0]).toMatch(/target/);
  });

  it("covers the closed hours of its days only", () => {
    const spec = BackfillSpecSchema.parse({ from: "2026-11-25", to: "2026-11-26" });
    expect(backfillHours(spec, Date.UTC(2026, 11, 1))).toHaveLength(48);
    const now = H + 10 * MINUTE_MS; // 09:10 on the 26th: hours up to 08:00 are closed
    const hours = backfillHours(spec, now);
    expect(hours).toHaveLength(24 + 9);
    expect(hours.at(-1)).toBe(H - HOUR_MS);
    expect(backfillStatusFor("j", spec, hours.length, 2, now)).toMatchObject({
      state: "running",
      hours_total: 33,
      hours_done: 0,
      days_total: 2,
    });
  });
});
