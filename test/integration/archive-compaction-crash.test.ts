/**
 * Archive compaction after a crash at every write, before or after it lands: nothing is lost or
 * doubled at any point, and the next runs converge to the clean state (manifest and its files only).
 */
import { describe, expect, it } from "vitest";
import { compactPending } from "../../core/archive/compaction.ts";
import { ArchiveManifestSchema, manifestKey, partitionOf } from "../../core/archive/layout.ts";
import { dedupeRecords } from "../../core/archive/plan.ts";
import { type ArchiveStore, MemoryArchiveStore, type PutCondition } from "../../core/archive/store.ts";
import { HOUR_MS } from "../../core/time.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import {
  AFTER_CLOSE,
  byId,
  clock,
  eventsOf,
  fixture,
  HOUR,
  keysUnder,
  readableEvents,
  writeBatches,
} from "./archive-compaction-support.ts";

/** A store that fails the n-th write or delete, before or after performing it (a crash there). */
class CrashingStore implements ArchiveStore {
  private count = 0;
  readonly inner: ArchiveStore;
  readonly crashAt: number;
  readonly after: boolean;
  constructor(inner: ArchiveStore, crashAt: number, after: boolean) {
    this.inner = inner;
    this.crashAt = crashAt;
    this.after = after;
  }
  private async mutate<T>(run: () => Promise<T>): Promise<T> {
    const n = ++this.count;
    if (n === this.crashAt && !this.after) throw new Error(`crash before write ${n}`);
    const result = await run();
    if (n === this.crashAt) throw new Error(`crash after write ${n}`);
    return result;
  }
  put(key: string, body: Uint8Array, onlyIf?: PutCondition) {
    return this.mutate(() => this.inner.put(key, body, onlyIf));
  }
  get(key: string) {
    return this.inner.get(key);
  }
  list(prefix: string, cursor?: string) {
    return this.inner.list(prefix, cursor);
  }
  delete(keys: readonly string[]) {
    return this.mutate(() => this.inner.delete(keys));
  }
  get writes() {
    return this.count;
  }
}

describe("archive compaction after a crash", () => {
  it("keeps every event readable exactly once at every crash point, and a re-run converges to the clean state", async () => {
    const id = "UA-CRASH-1";
    const { batches, expected } = fixture(id);
    const p = partitionOf(id, HOUR);
    // How many writes a clean run makes (with two steps, so a crash can fall between them too).
    const probe = new CrashingStore(new MemoryArchiveStore(), 0, false);
    await writeBatches(probe.inner, batches);
    await compactPending(probe, zstdCodec, { now: () => AFTER_CLOSE, maxRowsPerFile: 15 });
    expect(probe.writes).toBeGreaterThan(6);

    for (let crashAt = 1; crashAt <= probe.writes; crashAt++) {
      for (const after of [false, true]) {
        const c = clock();
        const inner = new MemoryArchiveStore(c.now);
        await writeBatches(inner, batches);
        const report = await compactPending(new CrashingStore(inner, crashAt, after), zstdCodec, {
          now: c.now,
          maxRowsPerFile: 15,
        });
        const where = `crash ${after ? "after" : "before"} write ${crashAt}`;
        expect(report.errors, where).toHaveLength(1);
        // Nothing lost, nothing doubled: each event as often as it was accepted (ev-0000 twice) or,
        // once a step merged it, once.
        const readable = await readableEvents(inner, p);
        expect(readable.length, where).toBeGreaterThanOrEqual(36);
        expect(readable.length, where).toBeLessThanOrEqual(37);
        expect(eventsOf(byId(dedupeRecords(readable).kept)), where).toEqual(eventsOf(expected));
        // The next runs (an hour apart, so orphans age) end clean.
        for (let run = 0; run < 3; run++) {
          c.advance(HOUR_MS);
          expect((await compactPending(inner, zstdCodec, { now: c.now, maxRowsPerFile: 15 })).errors).toEqual([]);
        }
        const keys = await keysUnder(inner, "");
        const manifest = ArchiveManifestSchema.parse(
          JSON.parse(new TextDecoder().decode((await inner.get(manifestKey(p)))?.body)),
        );
        expect(keys.sort(), where).toEqual([manifestKey(p), ...manifest.files.map((f) => f.key)].sort());
        // The retried event stays twice only if the crash committed one copy in a run that had not
        // yet read the other (one run remembers the ids it wrote; two runs do not share them).
        // Of its two copies either may be the one kept (they differ only in received_at).
        const final = await readableEvents(inner, p);
        expect(eventsOf(byId(dedupeRecords(final).kept)), where).toEqual(eventsOf(expected));
        expect(
          final.filter((r) => r.event_id !== "ev-0000"),
          where,
        ).toEqual(expected.slice(1));
      }
    }
  });
});
