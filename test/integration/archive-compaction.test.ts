/**
 * Archive compaction and manifests, in Node, through the one storage interface: an in-memory store
 * and the S3 store against the run's local S3-compatible server (s3rver). Proves that compaction
 * keeps every event exactly once, compacts only closed hours with a marker, and bounds its files
 * and its time. Crashes: archive-compaction-crash.test.ts; verification and overlapping runs:
 * archive-compaction-safety.test.ts.
 */
import { describe, expect, inject, it } from "vitest";
import { compactHour, compactPending } from "../../core/archive/compaction.ts";
import {
  ArchiveManifestSchema,
  fileKind,
  hourPrefix,
  manifestKey,
  partitionOf,
  pendingKey,
} from "../../core/archive/layout.ts";
import { type ArchiveStore, MemoryArchiveStore } from "../../core/archive/store.ts";
import { sha256Hex } from "../../core/hash.ts";
import { HOUR_MS } from "../../core/time.ts";
import { S3ArchiveStore } from "../../platform/archive/s3-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { TEST_ARCHIVE_S3 } from "../support/global-setup.ts";
import {
  clock,
  eventsOf,
  fixture,
  HOUR,
  keysUnder,
  readableEvents,
  writeBatches,
} from "./archive-compaction-support.ts";

let s3Prefix = 0;
const stores: Record<string, (now: () => number) => ArchiveStore> = {
  memory: (now) => new MemoryArchiveStore(now, 3),
  // A small page size, so every listing here crosses pages. Each test gets its own property ids.
  s3: () =>
    new S3ArchiveStore({
      endpoint: inject("archiveS3Endpoint"),
      bucket: TEST_ARCHIVE_S3.bucket,
      region: "auto",
      accessKeyId: TEST_ARCHIVE_S3.accessKeyId,
      secretAccessKey: TEST_ARCHIVE_S3.secretAccessKey,
      pageSize: 3,
    }),
};

describe.each(Object.keys(stores))("archive compaction over the %s store", (kind) => {
  const property = (name: string) => `UA-${name}-${kind}-${++s3Prefix}-${Date.now() % 100000}`;

  it("merges a closed hour into one verified compacted file and a manifest, each event once, and clears the marker", async () => {
    const c = clock();
    const store = stores[kind]?.(c.now) as ArchiveStore;
    const id = property("MERGE");
    const { batches, expected } = fixture(id);
    await writeBatches(store, batches);
    const p = partitionOf(id, HOUR);
    expect((await keysUnder(store, hourPrefix(p))).filter((k) => fileKind(k) === "batch")).toHaveLength(7);
    expect(await readableEvents(store, p)).toHaveLength(37);

    const report = await compactHour(store, zstdCodec, p, { now: c.now });
    expect(report).toMatchObject({ done: true, steps: 1, files_merged: 7, rows_written: 36, duplicates_dropped: 1 });
    const keys = await keysUnder(store, hourPrefix(p));
    expect(keys.map(fileKind).sort()).toEqual(["compacted", "manifest"]);
    expect(await readableEvents(store, p)).toEqual(expected);

    const manifest = ArchiveManifestSchema.parse(
      JSON.parse(new TextDecoder().decode((await store.get(manifestKey(p)))?.body)),
    );
    const [file] = manifest.files;
    const compacted = await store.get(file?.key ?? "");
    expect(manifest).toMatchObject({ property_id: id, dt: "2026-11-26", hour: "09", rows: 36 });
    expect(manifest.min_event_timestamp).toBe(HOUR);
    expect(manifest.max_event_timestamp).toBe(HOUR + 35_000);
    expect(manifest.sources).toHaveLength(7);
    expect(file?.sha256).toBe(await sha256Hex(compacted?.body ?? new Uint8Array()));
    expect(file?.bytes).toBe(compacted?.body.byteLength);
    expect(manifest.checksum).toBe(await sha256Hex(file?.checksum ?? ""));
  });

  it("compacts only closed hours with a marker, and puts the marker back when a batch lands meanwhile", async () => {
    const c = clock(HOUR + HOUR_MS + 60_000);
    const store = stores[kind]?.(c.now) as ArchiveStore;
    const id = property("CLOSED");
    const { batches } = fixture(id);
    await writeBatches(store, batches.slice(0, 2));
    const p = partitionOf(id, HOUR);
    // One minute after the hour ended it is not closed yet (5 minutes of grace).
    let report = await compactPending(store, zstdCodec, { now: c.now });
    expect(report.errors).toEqual([]);
    expect((await keysUnder(store, hourPrefix(p))).filter((k) => fileKind(k) === "compacted")).toEqual([]);
    c.advance(10 * 60_000);
    report = await compactPending(store, zstdCodec, { now: c.now });
    expect(report.errors).toEqual([]);
    expect(await keysUnder(store, pendingKey(p))).toEqual([]);
    // A late batch: its marker comes back and the next run merges it with the small compacted file.
    await writeBatches(store, batches.slice(2));
    expect(await keysUnder(store, pendingKey(p))).toEqual([pendingKey(p)]);
    report = await compactPending(store, zstdCodec, { now: c.now });
    expect(report.errors).toEqual([]);
    const keys = await keysUnder(store, hourPrefix(p));
    expect(keys.map(fileKind).sort()).toEqual(["compacted", "manifest"]);
    expect(await readableEvents(store, p)).toHaveLength(36);
    expect(await keysUnder(store, pendingKey(p))).toEqual([]);
  });

  it("writes files of at most maxRowsPerFile rows, and starts no step once the deadline has passed", async () => {
    const c = clock();
    const store = stores[kind]?.(c.now) as ArchiveStore;
    const id = property("SPLIT");
    const { batches, expected } = fixture(id);
    await writeBatches(store, batches);
    const p = partitionOf(id, HOUR);
    const late = await compactHour(store, zstdCodec, p, { now: c.now, maxRowsPerFile: 12, deadline: c.now() });
    expect(late).toMatchObject({ done: false, steps: 0 });
    expect(await store.get(manifestKey(p))).toBeNull();
    const result = await compactHour(store, zstdCodec, p, { now: c.now, maxRowsPerFile: 12 });
    expect(result.done).toBe(true);
    expect(result.steps).toBeGreaterThan(1);
    const manifest = ArchiveManifestSchema.parse(
      JSON.parse(new TextDecoder().decode((await store.get(manifestKey(p)))?.body)),
    );
    expect(manifest.files.length).toBeGreaterThan(1);
    for (const f of manifest.files) expect(f.rows).toBeLessThan(12 + 6);
    expect(manifest.rows).toBe(36);
    // The retried event's two copies may fall into different steps: one run writes it once, either copy.
    expect(eventsOf(await readableEvents(store, p))).toEqual(eventsOf(expected));
  });
});
