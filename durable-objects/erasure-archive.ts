/**
 * An erasure's archive work: the event log is the truth every projection is rebuilt from, so it is
 * erased first. A visitor's hours are rewritten without their records (core/archive/rewrite.ts:
 * crash-safe, manifests kept true), in the property's own files and in the hour's pooled file;
 * a deleted property's own objects go whole, and its rows leave the pooled files of its hours.
 */
import { ARCHIVE_EVENTS_PREFIX, ARCHIVE_PENDING_PREFIX, partitionOf } from "../core/archive/layout.ts";
import { type RewriteResult, rewriteArchiveHour } from "../core/archive/rewrite.ts";
import type { ArchiveStore } from "../core/archive/store.ts";
import { listAll } from "../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../core/event.ts";
import { type ErasureTarget, erasureEdit, hoursOf } from "../core/privacy/erasure.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";

const ownPrefixes = (propertyId: string) => [
  `${ARCHIVE_EVENTS_PREFIX}property_id=${propertyId}/`,
  `${ARCHIVE_PENDING_PREFIX}property_id=${propertyId}/`,
];

const HOUR_PATH = /\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//;

/** The hours (epoch ms) that have objects under the property's own prefix. */
export async function ownArchiveHours(store: ArchiveStore, propertyId: string): Promise<number[]> {
  const [events] = ownPrefixes(propertyId);
  const keys = (await listAll(store, events ?? "")).map((o) => o.key);
  return hoursOf(
    keys.flatMap((key) => {
      const m = HOUR_PATH.exec(key);
      return m ? [Date.parse(`${m[1]}T${m[2]}:00:00Z`)] : [];
    }),
  );
}

/** Deletes up to one listing page of the property's own objects; 0 once none are left. */
export async function deleteOwnObjects(store: ArchiveStore, propertyId: string): Promise<number> {
  for (const prefix of ownPrefixes(propertyId)) {
    const page = await store.list(prefix);
    if (page.objects.length === 0) continue;
    await store.delete(page.objects.map((o) => o.key));
    return page.objects.length;
  }
  return 0;
}

/** Rewrites one hour without the target's records: the property's own files (scope visitor) and the pooled ones. */
export async function eraseArchiveHour(
  store: ArchiveStore,
  target: ErasureTarget,
  hour: number,
): Promise<RewriteResult> {
  const edit = erasureEdit(target);
  const partitions = [
    ...(target.scope === "visitor" ? [partitionOf(target.property_id, hour)] : []),
    partitionOf(POOLED_ARCHIVE_ID, hour),
  ];
  const total: RewriteResult = { files_read: 0, files_rewritten: 0, rows_dropped: 0, rows_changed: 0 };
  for (const partition of partitions) {
    const r = await rewriteArchiveHour(store, zstdCodec, partition, edit);
    total.files_read += r.files_read;
    total.files_rewritten += r.files_rewritten;
    total.rows_dropped += r.rows_dropped;
  }
  return total;
}
