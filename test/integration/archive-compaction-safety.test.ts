/**
 * Archive compaction's safety checks: a compacted file that does not read back as written is
 * refused with nothing deleted, and of two overlapping runs only one writes the manifest.
 */
import { describe, expect, it } from "vitest";
import { CompactionConflictError, compactHour, compactPending } from "../../core/archive/compaction.ts";
import { fileKind, hourPrefix, manifestKey, partitionOf, toArchiveRecord } from "../../core/archive/layout.ts";
import { dedupeRecords } from "../../core/archive/plan.ts";
import { type ArchiveStore, MemoryArchiveStore } from "../../core/archive/store.ts";
import { HOUR_MS } from "../../core/time.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import {
  byId,
  clock,
  event,
  fixture,
  HOUR,
  keysUnder,
  readableEvents,
  writeBatches,
} from "./archive-compaction-support.ts";

describe("archive compaction safety", () => {
  it("refuses a compacted file that does not read back as written, and deletes nothing", async () => {
    const c = clock();
    const inner = new MemoryArchiveStore(c.now);
    const id = "UA-VERIFY-1";
    const { batches, expected } = fixture(id);
    await writeBatches(inner, batches);
    const corrupting: ArchiveStore = {
      put: (key, body, onlyIf) => {
        if (fileKind(key) !== "compacted") return inner.put(key, body, onlyIf);
        const damaged = body.slice();
        const middle = Math.floor(damaged.length / 2);
        damaged[middle] = (damaged[middle] ?? 0) ^ 0xff;
        return inner.put(key, damaged, onlyIf);
      },
      get: (key) => inner.get(key),
      list: (prefix, cursor) => inner.list(prefix, cursor),
      delete: (keys) => inner.delete(keys),
    };
    const p = partitionOf(id, HOUR);
    const report = await compactPending(corrupting, zstdCodec, { now: c.now });
    expect(report.errors).toEqual([expect.stringContaining("CompactionVerifyError")]);
    expect(await inner.get(manifestKey(p))).toBeNull();
    expect((await keysUnder(inner, hourPrefix(p))).filter((k) => fileKind(k) === "batch")).toHaveLength(7);
    expect(byId(dedupeRecords(await readableEvents(inner, p)).kept)).toEqual(expected);
  });

  it("lets only one of two overlapping runs write the manifest; the other deletes nothing it merged", async () => {
    const c = clock();
    const inner = new MemoryArchiveStore(c.now);
    const id = "UA-RACE-1";
    const { batches, expected } = fixture(id);
    await writeBatches(inner, batches);
    const p = partitionOf(id, HOUR);
    let raced = false;
    // Run A is paused just before its manifest write while run B does the whole hour.
    const racing: ArchiveStore = {
      put: async (key, body, onlyIf) => {
        if (key === manifestKey(p) && !raced) {
          raced = true;
          await writeBatches(inner, [[{ id: "late", body: { v: 1, received_at: HOUR, events: [event(id, 99)] } }]]);
          expect((await compactHour(inner, zstdCodec, p, { now: c.now })).done).toBe(true);
        }
        return inner.put(key, body, onlyIf);
      },
      get: (key) => inner.get(key),
      list: (prefix, cursor) => inner.list(prefix, cursor),
      delete: (keys) => inner.delete(keys),
    };
    await expect(compactHour(racing, zstdCodec, p, { now: c.now })).rejects.toBeInstanceOf(CompactionConflictError);
    const withLate = [...expected, toArchiveRecord(event(id, 99), HOUR)].sort((a, b) =>
      a.event_id < b.event_id ? -1 : 1,
    );
    expect(await readableEvents(inner, p)).toEqual(withLate);
    c.advance(2 * HOUR_MS);
    expect((await compactHour(inner, zstdCodec, p, { now: c.now })).done).toBe(true);
    expect((await keysUnder(inner, hourPrefix(p))).map(fileKind).sort()).toEqual(["compacted", "manifest"]);
    expect(await readableEvents(inner, p)).toEqual(withLate);
  });
});
