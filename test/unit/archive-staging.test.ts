/**
 * The archive's one hand-off (core/archive/staging.ts): a consumer batch as one staging file, the
 * encoder's refusals isolated per message, and the scheduled split into the per-property-hour
 * layout — bounded chunks, young files left alone, and a crash between its writes and its deletes
 * leaving every event readable, collapsed to once by compaction.
 */
import { describe, expect, it } from "vitest";
import type { ArchiveMessage } from "../../core/archive/batch.ts";
import { compactPending } from "../../core/archive/compaction.ts";
import { fileKind, hourPrefix, liveFiles, partitionOf, pendingKey } from "../../core/archive/layout.ts";
import { type ArchiveCodec, decodeArchiveFile } from "../../core/archive/parquet.ts";
import { dedupeRecords } from "../../core/archive/plan.ts";
import {
  encodeStaging,
  encodeStagingIsolating,
  STAGING_PREFIX,
  splitStaging,
  stagingKey,
} from "../../core/archive/staging.ts";
import { listAll, MemoryArchiveStore } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

const T = Date.UTC(2026, 10, 26, 9, 30);
const ev = (property: string, n: number, at = T + n): Event =>
  makeEvent({ property_id: property, event_id: `e${n}`, event_timestamp: at });
const message = (id: string, events: Event[]): ArchiveMessage => ({ id, body: { v: 1, received_at: T, events } });

/** The event ids a property-hour holds, as a reader sees them: its live files, duplicates dropped. */
async function readable(store: MemoryArchiveStore, property: string, at: number): Promise<string[]> {
  const partition = partitionOf(property, at);
  const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
  const records = [];
  for (const key of liveFiles(listed, null)) {
    const file = await store.get(key);
    if (file) records.push(...(await decodeArchiveFile(file.body, zstdCodec)));
  }
  return dedupeRecords(records)
    .kept.map((r) => r.event_id)
    .sort();
}

async function stage(store: MemoryArchiveStore, messages: ArchiveMessage[]): Promise<string> {
  const file = await encodeStaging(messages, zstdCodec);
  await store.put(file.key, file.bytes);
  return file.key;
}

describe("staging files", () => {
  it("hold a batch's events from every property under a key from its message ids, in any order", async () => {
    const file = await encodeStaging([message("m2", [ev("P-B", 1)]), message("m1", [ev("P-A", 2)])], zstdCodec);
    expect(file.key).toBe(await stagingKey(["m1", "m2"]));
    expect(file.key).not.toBe(await stagingKey(["m1"]));
    expect((await decodeArchiveFile(file.bytes, zstdCodec)).map((r) => [r.property_id, r.event_id])).toEqual([
      ["P-A", "e2"],
      ["P-B", "e1"],
    ]);
  });

  it("leave out only the messages the encoder refuses", async () => {
    const refusing: ArchiveCodec = {
      ...zstdCodec,
      compress: (bytes) => {
        if (new TextDecoder().decode(bytes).includes("POISON")) throw new Error("refused");
        return zstdCodec.compress(bytes);
      },
    };
    const poison = message(
      "bad",
      Array.from({ length: 70 }, (_, i) => makeEvent({ event_id: `p${i}`, page_title: "POISON" })),
    );
    const good = message("good", [ev("P-A", 1)]);
    const result = await encodeStagingIsolating([good, poison], refusing);
    expect(result.refused).toEqual(["bad"]);
    expect(result.accepted).toEqual(["good"]);
    expect(result.file?.key).toBe(await stagingKey(["good"]));
  });
});

describe("the scheduled split", () => {
  it("turns old-enough staging files into one batch file per property-hour per chunk, markers after files", async () => {
    let now = T + 10 * 60_000;
    // Upload times in staging order (the split goes oldest first).
    const store = new MemoryArchiveStore(() => now++);
    const old = [
      await stage(store, [message("a", [ev("P-A", 1), ev("P-B", 2), ev("P-A", 3, T + HOUR_MS)])]),
      await stage(store, [message("b", [ev("P-A", 4), ev("P-B", 5)])]),
      await stage(store, [message("c", [ev("P-A", 6)])]),
    ];
    now += 5 * 60_000;
    const young = await stage(store, [message("d", [ev("P-A", 7)])]);
    // Chunks of at most 5 rows: files a + b (5 rows), then c.
    const report = await splitStaging(store, zstdCodec, { now: () => now, maxRowsPerChunk: 5, poolBelowRows: 1 });
    expect(report).toEqual({ staging_files: 3, staging_left: 0, rows: 6, files_written: 4 });
    expect((await listAll(store, STAGING_PREFIX)).map((o) => o.key)).toEqual([young]);
    expect(old.every((k) => !store.objects.has(k))).toBe(true);
    expect(await readable(store, "P-A", T)).toEqual(["e1", "e4", "e6"]);
    expect(await readable(store, "P-A", T + HOUR_MS)).toEqual(["e3"]);
    expect(await readable(store, "P-B", T)).toEqual(["e2", "e5"]);
    const files = await listAll(store, hourPrefix(partitionOf("P-A", T)));
    expect(files.map((o) => fileKind(o.key))).toEqual(["batch", "batch"]);
    expect(store.objects.has(pendingKey(partitionOf("P-B", T)))).toBe(true);
  });

  it("pools the property-hours with few rows in a chunk into one file for their hour", async () => {
    const now = T + HOUR_MS;
    const store = new MemoryArchiveStore(() => T);
    const busy = Array.from({ length: 5 }, (_, i) => ev("P-BUSY", 10 + i));
    await stage(store, [message("a", [...busy, ev("P-A", 1), ev("P-B", 2), ev("P-C", 3, T + HOUR_MS)])]);
    const report = await splitStaging(store, zstdCodec, { now: () => now, poolBelowRows: 3 });
    // P-BUSY's own file; P-A and P-B pooled for 09:00, P-C for 10:00.
    expect(report.files_written).toBe(3);
    expect(await readable(store, "P-BUSY", T)).toEqual(busy.map((e) => e.event_id).sort());
    expect(await readable(store, "P-A", T)).toEqual([]);
    expect(await readable(store, POOLED_ARCHIVE_ID, T)).toEqual(["e1", "e2"]);
    expect(await readable(store, POOLED_ARCHIVE_ID, T + HOUR_MS)).toEqual(["e3"]);
    expect(store.objects.has(pendingKey(partitionOf(POOLED_ARCHIVE_ID, T)))).toBe(true);
  });

  it("keeps two properties' events that share an event id in the pooled hour, through compaction", async () => {
    let now = T + 10 * 60_000;
    const store = new MemoryArchiveStore(() => now);
    // Client-sent ids are unique within a property only: "e1" twice, once each.
    await stage(store, [message("a", [ev("P-A", 1), ev("P-B", 1)])]);
    now += 3 * 60_000;
    await splitStaging(store, zstdCodec, { now: () => now });
    now = T + 2 * HOUR_MS;
    const report = await compactPending(store, zstdCodec, { now: () => now });
    expect(report).toMatchObject({ rows_written: 2, duplicates_dropped: 0, errors: [] });
    const partition = partitionOf(POOLED_ARCHIVE_ID, T);
    const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
    const manifestKeyName = listed.find((k) => k.endsWith("_manifest.json")) ?? "";
    const manifest = JSON.parse(new TextDecoder().decode((await store.get(manifestKeyName))?.body));
    const rows = [];
    for (const f of manifest.files as { key: string }[]) {
      const file = await store.get(f.key);
      if (file) rows.push(...(await decodeArchiveFile(file.body, zstdCodec)));
    }
    expect(rows.map((r) => `${r.property_id}:${r.event_id}`).sort()).toEqual(["P-A:e1", "P-B:e1"]);
  });

  it("stops at its deadline and says how many files are left", async () => {
    const now = T + HOUR_MS;
    const store = new MemoryArchiveStore(() => T);
    await stage(store, [message("a", [ev("P-A", 1)])]);
    await stage(store, [message("b", [ev("P-A", 2)])]);
    const report = await splitStaging(store, zstdCodec, { now: () => now, deadline: now });
    expect(report).toMatchObject({ staging_files: 2, staging_left: 2, files_written: 0 });
    expect(await listAll(store, STAGING_PREFIX)).toHaveLength(2);
  });

  it("crashing between its writes and its deletes, then running again with other chunks, loses and doubles nothing", async () => {
    let now = T + 10 * 60_000;
    const store = new MemoryArchiveStore(() => now);
    await stage(store, [message("a", [ev("P-A", 1), ev("P-A", 2)])]);
    await stage(store, [message("b", [ev("P-A", 3)])]);
    now += 3 * 60_000;
    const realDelete = store.delete.bind(store);
    store.delete = () => Promise.reject(new Error("crash before the deletes"));
    await expect(splitStaging(store, zstdCodec, { now: () => now, poolBelowRows: 1 })).rejects.toThrow("crash");
    store.delete = realDelete;
    // A later run chunks differently (one file per chunk): the same events land in new files too.
    now += 60_000;
    await splitStaging(store, zstdCodec, { now: () => now, maxRowsPerChunk: 1, poolBelowRows: 1 });
    expect(await listAll(store, STAGING_PREFIX)).toEqual([]);
    expect(await readable(store, "P-A", T)).toEqual(["e1", "e2", "e3"]);
    // Compaction keeps one row per event_id.
    now = T + 2 * HOUR_MS;
    const compacted = await compactPending(store, zstdCodec, { now: () => now });
    expect(compacted).toMatchObject({ rows_written: 3, duplicates_dropped: 3, errors: [] });
  });
});
