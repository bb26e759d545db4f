/** The erasure's pure contract: what a request may say, which archive records the edit drops, how hours and days are found. */
import { describe, expect, it } from "vitest";
import { toArchiveRecord } from "../../core/archive/layout.ts";
import {
  daysOfHours,
  ERASURE_STEPS,
  ErasureRequestSchema,
  erasureEdit,
  erasureStatusFor,
  hoursOf,
  nextStep,
  VisitorSchema,
} from "../../core/privacy/erasure.ts";
import { rebuildDayStatements } from "../../core/privacy/erasure-clickhouse.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const record = (overrides: Parameters<typeof makeEvent>[0]) =>
  toArchiveRecord(makeEvent({ property_id: "P-1", ...overrides }), 0);

describe("an erasure request", () => {
  it("needs a visitor for scope visitor and refuses one for scope property, naming the field", () => {
    const missing = ErasureRequestSchema.safeParse({ property_id: "P-1", scope: "visitor", requested_by: "admin" });
    expect(missing.error?.issues[0]?.path).toEqual(["visitor"]);
    const extra = ErasureRequestSchema.safeParse({
      property_id: "P-1",
      scope: "property",
      visitor: "v",
      requested_by: "admin",
    });
    expect(extra.success).toBe(false);
    expect(
      ErasureRequestSchema.safeParse({ property_id: "P-1", scope: "property", requested_by: "admin" }).success,
    ).toBe(true);
  });

  it("takes a visitor of 1-256 characters without control characters", () => {
    expect(VisitorSchema.safeParse("GA1.2.123.456").success).toBe(true);
    expect(VisitorSchema.safeParse("ünïcødé@example.com").success).toBe(true);
    expect(VisitorSchema.safeParse("x".repeat(256)).success).toBe(true);
    for (const bad of ["", "x".repeat(257), "a\nb", "a\u0000b", "\ud800"])
      expect(VisitorSchema.safeParse(bad).success).toBe(false);
  });

  it("records requested_at as ISO whether given as epoch ms or ISO text", () => {
    const at = Date.UTC(2026, 11, 1, 10);
    const iso = new Date(at).toISOString();
    for (const requested_at of [at, iso]) {
      const request = ErasureRequestSchema.parse({
        property_id: "P-1",
        scope: "property",
        requested_by: "admin",
        requested_at,
      });
      expect(erasureStatusFor(request, "e-12345678", undefined, 0).requested_at).toBe(iso);
    }
  });

  it("walks the steps archive first and ends after notify", () => {
    expect(ERASURE_STEPS.indexOf("archive")).toBeLessThan(ERASURE_STEPS.indexOf("clickhouse"));
    expect(ERASURE_STEPS.indexOf("archive")).toBeLessThan(ERASURE_STEPS.indexOf("warehouse"));
    expect(nextStep("notify")).toBeNull();
  });
});

describe("the archive edit", () => {
  const visitor = erasureEdit({
    property_id: "P-1",
    scope: "visitor",
    visitor: "u-42",
    client_ids: ["c-laptop", "u-42"],
  });

  it("drops the visitor's records by client id or by user id, and only in their property", () => {
    expect(visitor(record({ client_id: "c-laptop" }))).toBeNull();
    expect(visitor(record({ client_id: "c-other", user_id: "u-42" }))).toBeNull();
    const elsewhere = toArchiveRecord(makeEvent({ property_id: "P-2", client_id: "c-laptop", user_id: "u-42" }), 0);
    expect(visitor(elsewhere)).toBe(elsewhere);
  });

  it("returns everyone else's records as the same objects, so their files are not rewritten", () => {
    const kept = record({ client_id: "c-alice", user_id: "u-7" });
    expect(visitor(kept)).toBe(kept);
  });

  it("drops every record of a deleted property and none of another's", () => {
    const property = erasureEdit({ property_id: "P-1", scope: "property", client_ids: [] });
    expect(property(record({ client_id: "anyone" }))).toBeNull();
    const other = toArchiveRecord(makeEvent({ property_id: "P-2" }), 0);
    expect(property(other)).toBe(other);
  });
});

describe("hours and days", () => {
  it("floors instants to distinct sorted hours, and hours to days", () => {
    const h = Date.UTC(2026, 11, 1, 10);
    expect(hoursOf([h + 59 * 60_000, h, h + 3_600_000, Date.UTC(2026, 10, 30, 23, 30)])).toEqual([
      Date.UTC(2026, 10, 30, 23),
      h,
      h + 3_600_000,
    ]);
    expect(daysOfHours([h, h + 3_600_000, Date.UTC(2026, 10, 30, 23)])).toEqual([
      Date.UTC(2026, 10, 30),
      Date.UTC(2026, 11, 1),
    ]);
  });

  it("rebuilds a day by deleting its hourly and one-day rollup rows before deriving them again", () => {
    const statements = rebuildDayStatements("P-1", Date.UTC(2026, 11, 1));
    expect(statements.map((s) => s.sql.split(" ").slice(0, 3).join(" "))).toEqual([
      "DELETE FROM events_rollup",
      "DELETE FROM events_rollup_days",
      "INSERT INTO events_rollup",
      "DELETE FROM sessions_rollup",
      "DELETE FROM sessions_rollup_days",
      "INSERT INTO sessions_rollup",
    ]);
    expect(statements[1]?.sql).toContain("span = 1");
    expect(statements[0]?.params).toEqual({ p: "P-1", from: Date.UTC(2026, 11, 1), to: Date.UTC(2026, 11, 2) });
  });
});
