/**
 * The archive's retention by event time (core/privacy/archive-retention.ts) over the in-memory
 * store: days wholly before ARCHIVE_RETENTION_DAYS lose every file (own, pooled, pending markers),
 * newer days and other objects stay, and progress makes each day one pass.
 */
import { describe, expect, it } from "vitest";
import { batchFileKey, pendingKey } from "../../core/archive/layout.ts";
import { listAll, MemoryArchiveStore } from "../../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import {
  ARCHIVE_RETENTION_PROGRESS_KEY,
  deleteExpiredArchiveDays,
  retentionDueBefore,
} from "../../core/privacy/archive-retention.ts";
import { DAY_MS } from "../../core/time.ts";

const NOW = Date.UTC(2026, 11, 2, 10, 10);
const DAYS = 730;
const dt = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const LAST_DUE = retentionDueBefore(NOW, DAYS) - DAY_MS;
const KEPT = retentionDueBefore(NOW, DAYS);

async function archive() {
  const store = new MemoryArchiveStore(() => NOW);
  const put = (key: string) => store.put(key, new Uint8Array([1]));
  for (const [owner, day] of [
    ["UA-A-1", LAST_DUE - 3 * DAY_MS],
    ["UA-A-1", LAST_DUE],
    [POOLED_ARCHIVE_ID, LAST_DUE],
    ["UA-A-1", KEPT],
    [POOLED_ARCHIVE_ID, KEPT],
  ] as const) {
    const p = { property_id: owner, dt: dt(day), hour: "23" };
    await put(batchFileKey(p, "ab12"));
    await put(pendingKey(p));
  }
  await put("_privacy/raw-user-agent.json");
  return store;
}

const options = (deadline = Number.POSITIVE_INFINITY) => ({
  now: () => NOW,
  deadline,
  retentionDays: DAYS,
  start: async () => LAST_DUE - 3 * DAY_MS,
});

describe("the archive's retention by event time", () => {
  it("deletes every file of the days wholly before the period and keeps the rest", async () => {
    const store = await archive();
    const report = await deleteExpiredArchiveDays(store, ["UA-A-1"], options());
    expect(report).toEqual({ days_done: 4, objects_deleted: 6, day: KEPT });
    const left = (await listAll(store, "")).map((o) => o.key).sort();
    expect(left).toEqual(
      [
        batchFileKey({ property_id: "UA-A-1", dt: dt(KEPT), hour: "23" }, "ab12"),
        batchFileKey({ property_id: POOLED_ARCHIVE_ID, dt: dt(KEPT), hour: "23" }, "ab12"),
        pendingKey({ property_id: "UA-A-1", dt: dt(KEPT), hour: "23" }),
        pendingKey({ property_id: POOLED_ARCHIVE_ID, dt: dt(KEPT), hour: "23" }),
        "_privacy/raw-user-agent.json",
        ARCHIVE_RETENTION_PROGRESS_KEY,
      ].sort(),
    );
    expect(await deleteExpiredArchiveDays(store, ["UA-A-1"], options())).toEqual({
      days_done: 0,
      objects_deleted: 0,
      day: KEPT,
    });
  });

  it("stops at its deadline and resumes from the saved day", async () => {
    const store = await archive();
    expect((await deleteExpiredArchiveDays(store, ["UA-A-1"], options(NOW))).days_done).toBe(0);
    expect(await deleteExpiredArchiveDays(store, ["UA-A-1"], options())).toMatchObject({ days_done: 4, day: KEPT });
  });
});
