/**
 * The freshness rules of the query cache (platform/query-cache.ts) and the PropertyDO's data
 * versions (durable-objects/property-quota.ts): which version a range depends on, how long an
 * answer may be kept while its version settles, and which batches move which version.
 */
import { describe, expect, it } from "vitest";
import { DataVersions } from "../../durable-objects/property-quota.ts";
import {
  CLOSED_RANGE_TTL_SECONDS,
  type DataVersion,
  entryTtlSeconds,
  LATE_EVENT_MS,
  OPEN_RANGE_TTL_SECONDS,
  SETTLE_MS,
  scopeFor,
  UNSETTLED_TTL_SECONDS,
} from "../../platform/query-cache.ts";

const now = Date.UTC(2026, 11, 2, 12, 0, 0);
const data: DataVersion = { recent: { version: "e.9", age_ms: 100 }, history: { version: "e.2", age_ms: 90_000 } };

describe("the version a range depends on", () => {
  it.each([
    ["includes now", now + 3_600_000, "e.9"],
    ["ended 59 s ago (on-time batches may still fall in it)", now - 59_000, "e.9"],
    ["ended a minute ago", now - 60_000, "e.2"],
    ["ended last year", now - 365 * 86_400_000, "e.2"],
    ["has no valid end", Number.NaN, "e.9"],
  ])("is right for a range that %s", (_name, end, version) => {
    expect(scopeFor(data, end, now).version).toBe(version);
  });

  it("leaves room for an on-time batch to settle before a range counts as ended", () => {
    // An on-time event is at most LATE_EVENT_MS older than its batch; a batch still settling is at
    // most SETTLE_MS old; so it cannot hold an event of a range that ended a minute ago.
    expect(LATE_EVENT_MS + SETTLE_MS).toBeLessThan(60_000);
  });
});

describe("how long an answer is kept", () => {
  it("is the range's TTL once its version has settled", () => {
    expect(entryTtlSeconds(now + 1, now, SETTLE_MS)).toBe(OPEN_RANGE_TTL_SECONDS);
    expect(entryTtlSeconds(now - 86_400_000, now, 60_000)).toBe(CLOSED_RANGE_TTL_SECONDS);
  });

  it("is a second while its version settles (the answer may lack the newest batch's rows)", () => {
    expect(UNSETTLED_TTL_SECONDS).toBe(1);
    expect(entryTtlSeconds(now + 1, now, 0)).toBe(UNSETTLED_TTL_SECONDS);
    expect(entryTtlSeconds(now - 86_400_000, now, SETTLE_MS - 1)).toBe(UNSETTLED_TTL_SECONDS);
  });
});

describe("the PropertyDO's data versions", () => {
  const t0 = Date.now();

  it("start as just changed: the last batch before a restart may still be on its way", () => {
    const v = new DataVersions().read(t0);
    expect(v.recent.age_ms).toBeLessThan(SETTLE_MS);
    expect(v.history.age_ms).toBeLessThan(SETTLE_MS);
  });

  it("move `recent` with an on-time batch, and leave `history` alone", () => {
    const versions = new DataVersions();
    const before = versions.read(t0);
    versions.advance([t0 - 1_000, t0 - LATE_EVENT_MS + 1], t0);
    const after = versions.read(t0 + 500);
    expect(after.recent.version).not.toBe(before.recent.version);
    expect(after.recent.age_ms).toBe(500);
    expect(after.history).toEqual({ version: before.history.version, age_ms: before.history.age_ms + 500 });
  });

  it("move both with a batch holding a late event (an import, a retry), or only repeats", () => {
    const versions = new DataVersions();
    const first = versions.read(t0);
    versions.advance([t0, t0 - LATE_EVENT_MS - 1], t0);
    const second = versions.read(t0);
    expect(second.history.version).not.toBe(first.history.version);
    versions.advance([], t0);
    const third = versions.read(t0);
    expect(third.history.version).not.toBe(second.history.version);
    expect(new Set([first, second, third].map((v) => v.recent.version)).size).toBe(3);
  });

  it("never reuse a version across instances (a restarted actor)", () => {
    expect(new DataVersions().read(t0).recent.version).not.toBe(new DataVersions().read(t0).recent.version);
  });
});
