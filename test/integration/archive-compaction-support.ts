/**
 * Shared fixtures of the archive compaction tests (archive-compaction*.test.ts): a closed hour, a
 * controllable clock, events and consumer batches written as the consumer writes them, and the
 * hour's readable events as a reader sees them.
 */
import { type ArchiveMessage, encodeGroup, groupMessages, storeGroup } from "../../core/archive/batch.ts";
import {
  ArchiveManifestSchema,
  type ArchivePartition,
  type ArchiveRecord,
  fromArchiveRecord,
  hourPrefix,
  liveFiles,
  manifestKey,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { type ArchiveStore, listAll } from "../../core/archive/store.ts";
import type { Event } from "../../core/event.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

/** The hour every fixture event falls in. */
export const HOUR = Date.UTC(2026, 10, 26, 9, 0);
/** Ten minutes after the hour ended: closed, past the five minutes of grace. */
export const AFTER_CLOSE = HOUR + HOUR_MS + 10 * 60_000;

/** A controllable clock shared by a test's store and compaction. */
export function clock(start = AFTER_CLOSE) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** Event `n` of a property: ids, clients, times and pages derived from `n`. */
export function event(property: string, n: number, overrides: Partial<Event> = {}): Event {
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
export async function writeBatches(store: ArchiveStore, batches: ArchiveMessage[][]): Promise<void> {
  for (const batch of batches)
    for (const group of groupMessages(batch)) await storeGroup(store, await encodeGroup(group, zstdCodec));
}

/** Every event the hour's readable files hold (core/archive/layout.ts liveFiles), sorted by event id. */
export async function readableEvents(store: ArchiveStore, p: ArchivePartition): Promise<ArchiveRecord[]> {
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
export function eventsOf(records: readonly ArchiveRecord[]): Event[] {
  return records.map((r) => fromArchiveRecord(r).event);
}

/** A sorted copy, by event id. */
export function byId(records: readonly ArchiveRecord[]): ArchiveRecord[] {
  return [...records].sort((a, b) => (a.event_id < b.event_id ? -1 : 1));
}

/** Every stored key under the prefix. */
export async function keysUnder(store: ArchiveStore, prefix: string): Promise<string[]> {
  return (await listAll(store, prefix)).map((o) => o.key);
}

/** 36 events of one property's hour over 6 batches of 2 messages, with one event accepted twice. */
export function fixture(property: string): { batches: ArchiveMessage[][]; expected: ArchiveRecord[] } {
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
