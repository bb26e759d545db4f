/**
 * rewriteArchiveHour (core/archive/rewrite.ts) against the in-memory store: it edits batch and
 * compacted files alike, keeps the manifest's counts and checksums true, writes nothing for what
 * the edit leaves alone, and after a crash at any write a re-run converges with every event
 * readable exactly once.
 */
import { describe, expect, it } from "vitest";
import { type ArchiveMessage, encodeGroup, groupMessages, storeGroup } from "../../core/archive/batch.ts";
import { compactPending } from "../../core/archive/compaction.ts";
import {
  ArchiveManifestSchema,
  type ArchivePartition,
  type ArchiveRecord,
  buildManifest,
  fileKind,
  hourPrefix,
  liveFiles,
  manifestKey,
  partitionOf,
  pendingKey,
} from "../../core/archive/layout.ts";
import { archiveFileRows, decodeArchiveFile, recordsChecksum } from "../../core/archive/parquet.ts";
import { type RecordEdit, RewriteConflictError, rewriteArchiveHour } from "../../core/archive/rewrite.ts";
import { type ArchiveStore, listAll, MemoryArchiveStore, type PutCondition } from "../../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { sha256Hex } from "../../core/hash.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

const HOUR = Date.UTC(2026, 10, 26, 9, 0);
const AFTER_CLOSE = HOUR + HOUR_MS + 10 * 60_000;
const PROPERTY = "UA-RW-1";
const P = partitionOf(PROPERTY, HOUR);

/** Drops the raw user agent (what the privacy pass does); records without one come back unchanged. */
const blankUserAgent: RecordEdit = (r) => {
  if (r.user_agent === undefined) return r;
  const { user_agent: _, ...rest } = r;
  return rest;
};
/** Drops one visitor's rows (what erasure does). */
const eraseClient =
  (client: string): RecordEdit =>
  (r) =>
    r.client_id === client ? null : r;

function messages(property: string, batch: number, count: number): ArchiveMessage[] {
  const events = Array.from({ length: count }, (_, k) => {
    const n = batch * 100 + k;
    return makeEvent({
      property_id: property,
      event_id: `ev-${String(n).padStart(4, "0")}`,
      client_id: `c${n % 4}`,
      event_timestamp: HOUR + n * 1000,
    });
  });
  return [{ id: `${property}-msg-${batch}`, body: { v: 1, received_at: HOUR + 60_000 * (batch + 1), events } }];
}

async function writeBatch(store: ArchiveStore, batch: ArchiveMessage[]): Promise<void> {
  for (const group of groupMessages(batch)) await storeGroup(store, await encodeGroup(group, zstdCodec));
}

/** An hour with both kinds of file: three batches compacted into a manifest, then two batch files more. */
async function mixedHour(now = () => AFTER_CLOSE): Promise<MemoryArchiveStore> {
  const store = new MemoryArchiveStore(now);
  for (let b = 0; b < 3; b++) await writeBatch(store, messages(PROPERTY, b, 6));
  await compactPending(store, zstdCodec, { now, maxRowsPerFile: 10 });
  for (let b = 3; b < 5; b++) await writeBatch(store, messages(PROPERTY, b, 5));
  return store;
}

async function manifestOf(store: ArchiveStore, p: ArchivePartition) {
  const object = await store.get(manifestKey(p));
  return object ? ArchiveManifestSchema.parse(JSON.parse(new TextDecoder().decode(object.body))) : null;
}

/** The hour's readable records (liveFiles), sorted by event id. */
async function readable(store: ArchiveStore, p: ArchivePartition = P): Promise<ArchiveRecord[]> {
  const keys = (await listAll(store, hourPrefix(p))).map((o) => o.key);
  const records: ArchiveRecord[] = [];
  for (const key of liveFiles(keys, await manifestOf(store, p))) {
    const object = await store.get(key);
    if (!object) throw new Error(`readable file ${key} is missing`);
    records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
  }
  return records.sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

/** Every manifest file exists with the bytes, rows and records' checksum it states; totals recomputed. */
async function expectManifestTrue(store: ArchiveStore, p: ArchivePartition = P): Promise<void> {
  const manifest = await manifestOf(store, p);
  if (!manifest) throw new Error("no manifest");
  for (const file of manifest.files) {
    const object = await store.get(file.key);
    expect(object, file.key).not.toBeNull();
    const body = object?.body ?? new Uint8Array();
    expect(await sha256Hex(body)).toBe(file.sha256);
    expect(body.byteLength).toBe(file.bytes);
    expect(archiveFileRows(body)).toBe(file.rows);
    const records = await decodeArchiveFile(body, zstdCodec);
    expect(await recordsChecksum(records)).toBe(file.checksum);
    expect(Math.min(...records.map((r) => r.event_timestamp))).toBe(file.min_event_timestamp);
  }
  const rebuilt = await buildManifest(p, manifest.files, manifest.sources, manifest.compacted_at);
  expect(manifest).toEqual(rebuilt);
}

const edited = (records: ArchiveRecord[], edit: RecordEdit) =>
  records.flatMap((r) => {
    const out = edit(r);
    return out ? [out] : [];
  });

/** A store that counts writes and fails the n-th, before or after performing it (a crash there). */
class CrashingStore implements ArchiveStore {
  writes = 0;
  readonly inner: ArchiveStore;
  readonly crashAt: number;
  readonly after: boolean;
  constructor(inner: ArchiveStore, crashAt = 0, after = false) {
    this.inner = inner;
    this.crashAt = crashAt;
    this.after = after;
  }
  private async mutate<T>(run: () => Promise<T>): Promise<T> {
    const n = ++this.writes;
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
}

describe("rewriteArchiveHour", () => {
  it("edits every readable file, batch and compacted, and leaves a manifest whose counts and checksums are true", async () => {
    const store = await mixedHour();
    const before = await readable(store);
    const kinds = (await listAll(store, hourPrefix(P))).map((o) => fileKind(o.key));
    expect(kinds).toContain("batch");
    expect(kinds).toContain("compacted");

    const result = await rewriteArchiveHour(store, zstdCodec, P, blankUserAgent, { now: AFTER_CLOSE });
    expect(result).toMatchObject({ rows_dropped: 0, rows_changed: before.length });
    expect(result.files_rewritten).toBe(result.files_read);
    expect(await readable(store)).toEqual(edited(before, blankUserAgent));
    expect((await readable(store)).some((r) => r.user_agent !== undefined)).toBe(false);
    await expectManifestTrue(store);
    // The old files are gone: only the manifest and the files it names remain.
    const manifest = await manifestOf(store, P);
    expect((await listAll(store, hourPrefix(P))).map((o) => o.key).sort()).toEqual(
      [manifestKey(P), ...(manifest?.files.map((f) => f.key) ?? [])].sort(),
    );
  });

  it("drops rows, and a file whose rows all go leaves no successor", async () => {
    const store = new MemoryArchiveStore(() => AFTER_CLOSE);
    await writeBatch(store, messages(PROPERTY, 0, 8));
    const single = messages(PROPERTY, 1, 1); // ev-0100: client c0 only
    await writeBatch(store, single);
    const before = await readable(store);

    const result = await rewriteArchiveHour(store, zstdCodec, P, eraseClient("c0"), { now: AFTER_CLOSE });
    expect(result).toEqual({ files_read: 2, files_rewritten: 2, rows_dropped: 3, rows_changed: 0 });
    const after = await readable(store);
    expect(after).toEqual(before.filter((r) => r.client_id !== "c0"));
    expect((await manifestOf(store, P))?.files).toHaveLength(1);
    await expectManifestTrue(store);
  });

  it("writes nothing when the edit changes no record, and only the changed file otherwise", async () => {
    const store = await mixedHour();
    const counting = new CrashingStore(store);
    const untouched = await rewriteArchiveHour(counting, zstdCodec, P, (r) => r, { now: AFTER_CLOSE });
    expect(untouched).toMatchObject({ files_rewritten: 0, rows_changed: 0, rows_dropped: 0 });
    expect(untouched.files_read).toBeGreaterThan(2);
    expect(counting.writes).toBe(0);

    const etags = new Map((await listAll(store, hourPrefix(P))).map((o) => [o.key, o.etag]));
    // ev-0400 lives in the last batch file only.
    const one: RecordEdit = (r) => (r.event_id === "ev-0400" ? { ...r, page_title: "edited" } : r);
    const result = await rewriteArchiveHour(counting, zstdCodec, P, one, { now: AFTER_CLOSE });
    expect(result).toMatchObject({ files_rewritten: 1, rows_changed: 1 });
    // The marker, the successor, the manifest, then one delete.
    expect(counting.writes).toBe(4);
    const after = await listAll(store, hourPrefix(P));
    const kept = after.filter((o) => etags.get(o.key) === o.etag).map((o) => o.key);
    expect(kept.length).toBe(etags.size - 2); // all but the old batch file and the old manifest
    expect((await readable(store)).find((r) => r.event_id === "ev-0400")?.page_title).toBe("edited");
    await expectManifestTrue(store);

    const again = await rewriteArchiveHour(counting, zstdCodec, P, blankUserAgent, { now: AFTER_CLOSE });
    const writes = counting.writes;
    expect(again.files_rewritten).toBeGreaterThan(0);
    expect(await rewriteArchiveHour(counting, zstdCodec, P, blankUserAgent, { now: AFTER_CLOSE })).toMatchObject({
      files_rewritten: 0,
    });
    expect(counting.writes).toBe(writes);
  });

  it("rewrites a pooled hour, the edit seeing each row's own property", async () => {
    const store = new MemoryArchiveStore(() => AFTER_CLOSE);
    const pooled = { ...P, property_id: POOLED_ARCHIVE_ID };
    // Written as the consumer pools small property-hours: one file holding two properties' rows.
    const records = [...messages("UA-A-1", 0, 3), ...messages("UA-B-1", 1, 3)];
    const groups = groupMessages(records).map((g) => ({ ...g, partition: pooled }));
    const merged = { partition: pooled, messageIds: ["m"], records: groups.flatMap((g) => g.records) };
    merged.records.sort((a, b) => a.event_timestamp - b.event_timestamp);
    await storeGroup(store, await encodeGroup(merged, zstdCodec));

    const seen = new Set<string>();
    const result = await rewriteArchiveHour(
      store,
      zstdCodec,
      pooled,
      (r) => {
        seen.add(r.property_id);
        return r.property_id === "UA-B-1" ? null : r;
      },
      { now: AFTER_CLOSE },
    );
    expect([...seen].sort()).toEqual(["UA-A-1", "UA-B-1"]);
    expect(result.rows_dropped).toBe(3);
    expect((await readable(store, pooled)).map((r) => r.property_id)).toEqual(["UA-A-1", "UA-A-1", "UA-A-1"]);
    await expectManifestTrue(store, pooled);
  });

  it("refuses an edit that moves a row to another event id", async () => {
    const store = await mixedHour();
    await expect(
      rewriteArchiveHour(store, zstdCodec, P, (r) => ({ ...r, event_id: `${r.event_id}x` }), { now: AFTER_CLOSE }),
    ).rejects.toThrow(/may not change event_id/);
  });

  it("fails on a manifest changed meanwhile, losing nothing, and a re-run finishes", async () => {
    const store = await mixedHour();
    const before = await readable(store);
    // Another run writes the manifest while this one writes its first new file.
    const racing: ArchiveStore = {
      put: async (key, body, onlyIf) => {
        if (fileKind(key) === "compacted") {
          const m = await store.get(manifestKey(P));
          if (m) await store.put(manifestKey(P), m.body);
        }
        return store.put(key, body, onlyIf);
      },
      get: (key) => store.get(key),
      list: (prefix, cursor) => store.list(prefix, cursor),
      delete: (keys) => store.delete(keys),
    };
    await expect(rewriteArchiveHour(racing, zstdCodec, P, blankUserAgent, { now: AFTER_CLOSE })).rejects.toThrow(
      RewriteConflictError,
    );
    expect(await readable(store)).toEqual(before);
    await rewriteArchiveHour(store, zstdCodec, P, blankUserAgent, { now: AFTER_CLOSE });
    expect(await readable(store)).toEqual(edited(before, blankUserAgent));
  });
});

describe("rewriteArchiveHour after a crash", () => {
  for (const [name, edit] of [
    ["blanking user agents", blankUserAgent],
    ["erasing a visitor", eraseClient("c1")],
  ] as const) {
    it(`keeps each event readable exactly once at every crash point, and a re-run converges (${name})`, async () => {
      const probe = new CrashingStore(await mixedHour());
      const original = await readable(probe.inner);
      const expected = edited(original, edit);
      await rewriteArchiveHour(probe, zstdCodec, P, edit, { now: AFTER_CLOSE });
      expect(probe.writes).toBeGreaterThan(5);

      for (let crashAt = 1; crashAt <= probe.writes; crashAt++) {
        for (const after of [false, true]) {
          const where = `crash ${after ? "after" : "before"} write ${crashAt}`;
          let now = AFTER_CLOSE;
          const inner = await mixedHour(() => now);
          await expect(
            rewriteArchiveHour(new CrashingStore(inner, crashAt, after), zstdCodec, P, edit, { now }),
            where,
          ).rejects.toThrow(/crash/);
          // Nothing lost or doubled: each event once, as it was or as edited (erased rows may be gone).
          const mid = await readable(inner);
          const ids = mid.map((r) => r.event_id);
          expect(new Set(ids).size, where).toBe(ids.length);
          for (const r of original) {
            const got = mid.find((m) => m.event_id === r.event_id);
            const want = edit(r);
            if (want) expect([r, want], where).toContainEqual(got);
            else expect(got === undefined || JSON.stringify(got) === JSON.stringify(r), where).toBe(true);
          }

          now += 10 * 60_000;
          await rewriteArchiveHour(inner, zstdCodec, P, edit, { now });
          expect(await readable(inner), where).toEqual(expected);
          await expectManifestTrue(inner);
          // Compaction afterwards (an hour later, so orphans age) ends clean: manifest and its files.
          now += HOUR_MS;
          expect((await compactPending(inner, zstdCodec, { now: () => now })).errors, where).toEqual([]);
          const manifest = await manifestOf(inner, P);
          expect((await listAll(inner, "")).map((o) => o.key).sort(), where).toEqual(
            [manifestKey(P), ...(manifest?.files.map((f) => f.key) ?? [])].sort(),
          );
          expect(await inner.get(pendingKey(P)), where).toBeNull();
          expect(await readable(inner), where).toEqual(expected);
        }
      }
    });
  }
});
