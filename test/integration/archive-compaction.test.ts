/**
 * Archive compaction and manifests, in Node, through the one storage interface: an in-memory store
 * and the S3 store against the run's local S3-compatible server (s3rver). Proves that compaction
 * keeps every event exactly once, converges after a crash at any write, refuses a file that does not
 * read back, and never lets two overlapping runs lose data.
 */
import { describe, expect, inject, it } from "vitest";
import { type ArchiveMessage, encodeGroup, groupMessages, storeGroup } from "../../core/archive/batch.ts";
import { CompactionConflictError, compactHour, compactPending } from "../../core/archive/compaction.ts";
import {
  ArchiveManifestSchema,
  type ArchivePartition,
  type ArchiveRecord,
  fileKind,
  fromArchiveRecord,
  hourPrefix,
  liveFiles,
  manifestKey,
  partitionOf,
  pendingKey,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { dedupeRecords } from "../../core/archive/plan.ts";
import { type ArchiveStore, listAll, MemoryArchiveStore, type PutCondition } from "../../core/archive/store.ts";
import type { Event } from "../../core/event.ts";
import { sha256Hex } from "../../core/hash.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { S3ArchiveStore } from "../../platform/archive/s3-store.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { TEST_ARCHIVE_S3 } from "../support/global-setup.ts";

const HOUR = Date.UTC(2026, 10, 26, 9, 0);
const AFTER_CLOSE = HOUR + HOUR_MS + 10 * 60_000;

/** A controllable clock shared by a test's store and compaction. */
function clock(start = AFTER_CLOSE) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

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

function event(property: string, n: number, overrides: Partial<Event> = {}): Event {
  return makeEvent({
    property_id: property,
    event_id: `ev-${String(n).padStart(4, "0")}`,
    client_id: `c${n % 7}`,
    event_timestamp: HOUR + n * 1000,
    page_url: `https://example.com/p/${n % 5}`,
    page_path: `/p/${n % 5}`,
    ...overrides,
  });
}

/** Writes messages as the consumer does: one batch file per partition of each batch, then the marker. */
async function writeBatches(store: ArchiveStore, batches: ArchiveMessage[][]): Promise<void> {
  for (const batch of batches)
    for (const group of groupMessages(batch)) await storeGroup(store, await encodeGroup(group, zstdCodec));
}

/** Every event the hour's readable files hold (core/archive/layout.ts liveFiles), sorted by event id. */
async function readableEvents(store: ArchiveStore, p: ArchivePartition): Promise<ArchiveRecord[]> {
  const listing = await listAll(store, hourPrefix(p));
  const manifestObject = await store.get(manifestKey(p));
  const manifest = manifestObject
    ? ArchiveManifestSchema.parse(JSON.parse(new TextDecoder().decode(manifestObject.body)))
    : null;
  const records: ArchiveRecord[] = [];
  for (const key of liveFiles(
    listing.map((o) => o.key),
    manifest,
  )) {
    const object = await store.get(key);
    if (!object) throw new Error(`readable file ${key} is missing`);
    records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
  }
  return records.sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

/** The events without their acceptance times (which tell a retried copy from the original). */
function eventsOf(records: readonly ArchiveRecord[]): Event[] {
  return records.map((r) => fromArchiveRecord(r).event);
}

function byId(records: readonly ArchiveRecord[]): ArchiveRecord[] {
  return [...records].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

async function keysUnder(store: ArchiveStore, prefix: string): Promise<string[]> {
  return (await listAll(store, prefix)).map((o) => o.key);
}

/** 36 events of one property's hour over 6 batches of 2 messages, with one event accepted twice. */
function fixture(property: string): { batches: ArchiveMessage[][]; expected: ArchiveRecord[] } {
  const batches: ArchiveMessage[][] = [];
  const expected: ArchiveRecord[] = [];
  for (let b = 0; b < 6; b++) {
    const batch: ArchiveMessage[] = [];
    for (let m = 0; m < 2; m++) {
      const events = [0, 1, 2].map((k) => event(property, b * 6 + m * 3 + k));
      const received_at = HOUR + 60_000 * (b + 1) + m;
      batch.push({ id: `${property}-msg-${b}-${m}`, body: { v: 1, received_at, events } });
      expected.push(...events.map((e) => toArchiveRecord(e, received_at)));
    }
    batches.push(batch);
  }
  // A client retry: the first event again, accepted later, in a batch of its own.
  const first = expected[0] as ArchiveRecord;
  const { received_at: _, ...again } = first;
  batches.push([{ id: `${property}-msg-retry`, body: { v: 1, received_at: HOUR + 3_000_000, events: [again] } }]);
  return { batches, expected: expected.sort((a, b) => (a.event_id < b.event_id ? -1 : 1)) };
}

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
