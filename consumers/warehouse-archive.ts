/**
 * Reading one hour of the archive for the warehouse jobs (the load and the quality check), as
 * replay reads it: each property's own files and its rows in the hour's pooled files, the
 * manifest's compacted files plus the batch files it does not name yet, one row per property and
 * event id.
 */
import { readManifest } from "../core/archive/compaction-step.ts";
import {
  ARCHIVE_EVENTS_PREFIX,
  type ArchivePartition,
  type ArchiveRecord,
  fromArchiveRecord,
  hourPrefix,
  liveFiles,
  partitionOf,
} from "../core/archive/layout.ts";
import { decodeArchiveFile } from "../core/archive/parquet.ts";
import { dedupeRecords } from "../core/archive/plan.ts";
import { type ArchiveStore, listAll } from "../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../core/event.ts";
import type { ArchivedEvent } from "../core/warehouse/load.ts";
import { zstdCodec } from "../platform/archive/zstd.ts";

/** Partitions read at once: listing and fetching an hour's files is I/O-bound. */
const READ_CONCURRENCY = 8;

/** Which properties a load covers. */
export interface LoadScope {
  /** The properties to read (the registry's, for a load of every property). */
  properties: readonly string[];
  /** Only these (a backfill for one property); else any property the hour's pooled files hold too. */
  exact: boolean;
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Listings tried for one partition-hour before its load fails (and is retried by its job). */
const READ_ATTEMPTS = 3;

/**
 * The records of one partition-hour: the manifest's files and the batch files it does not name.
 * A listed file gone when read was replaced meanwhile (a compaction, an erasure's or the raw-UA
 * pass's rewrite): its rows are in the hour's new files, so the hour is listed and read again.
 * Skipping it would load part of the hour and delete the rest from the warehouse.
 */
async function readPartition(store: ArchiveStore, propertyId: string, hour: number): Promise<ArchiveRecord[]> {
  const partition = partitionOf(propertyId, hour);
  for (let attempt = 1; ; attempt++) {
    const records = await readListedFiles(store, partition);
    if (records) return records;
    if (attempt >= READ_ATTEMPTS)
      throw new Error(
        `archive ${hourPrefix(partition)}: files vanished between listing and reading ${READ_ATTEMPTS} times (a rewrite or compaction is running); load again later`,
      );
  }
}

/** One listing's records, or null when a file it named is gone. */
async function readListedFiles(store: ArchiveStore, partition: ArchivePartition): Promise<ArchiveRecord[] | null> {
  const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
  if (listed.length === 0) return [];
  const { manifest } = await readManifest(store, partition);
  const records: ArchiveRecord[] = [];
  for (const key of liveFiles(listed, manifest)) {
    const object = await store.get(key);
    if (!object) return null;
    records.push(...(await decodeArchiveFile(object.body, zstdCodec)));
  }
  return records;
}

/** The hour's archived events in scope, one per (property, event id), and the properties it covers. */
export async function readArchiveHour(
  store: ArchiveStore,
  hour: number,
  scope: LoadScope,
): Promise<{ archived: ArchivedEvent[]; properties: string[] }> {
  const wanted = new Set(scope.properties);
  const own = await mapLimit(scope.properties, READ_CONCURRENCY, (p) => readPartition(store, p, hour));
  const pooled = (await readPartition(store, POOLED_ARCHIVE_ID, hour)).filter(
    (r) => !scope.exact || wanted.has(r.property_id),
  );
  const records = [...own.flat(), ...pooled];
  const archived = dedupeRecords(records).kept.map(fromArchiveRecord);
  const properties = new Set([...scope.properties, ...pooled.map((r) => r.property_id)]);
  return { archived, properties: [...properties].sort() };
}

/** The oldest hour the archive holds for these properties (and the pooled files), or null when empty. */
export async function oldestArchivedHour(store: ArchiveStore, properties: readonly string[]): Promise<number | null> {
  const firsts = await mapLimit([...properties, POOLED_ARCHIVE_ID], READ_CONCURRENCY, async (p) => {
    const page = await store.list(`${ARCHIVE_EVENTS_PREFIX}property_id=${p}/`);
    const m = /\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(page.objects[0]?.key ?? "");
    return m ? Date.parse(`${m[1]}T${m[2]}:00:00Z`) : null;
  });
  const hours = firsts.filter((h): h is number => h !== null);
  return hours.length > 0 ? Math.min(...hours) : null;
}
