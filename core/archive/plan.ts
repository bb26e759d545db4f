/**
 * The archive's pure decisions, shared by compaction (core/archive/compaction.ts) and by every
 * reader of raw batches (replay, tests): what an hour's listing and manifest call for, and which
 * rows survive when the same event id was archived more than once.
 */
import type { ArchiveManifest, ArchiveRecord, ManifestFile } from "./layout.ts";
import { fileKind } from "./layout.ts";
import { type ArchiveColumns, recordsToColumns } from "./parquet.ts";
import type { ArchiveObject } from "./store.ts";

/** What an hour's listing and manifest call for. */
export interface HourPlan {
  /** Files already merged (manifest sources), and old orphans: safe to delete. */
  deletable: string[];
  /** Batch files not yet merged, in key order. */
  live: string[];
  /** Compacted files small enough to merge again with new batch files. */
  mergeable: ManifestFile[];
  /** Orphaned compacted files too young to delete yet. */
  youngStrays: string[];
}

/** Decides what to delete and what to merge; pure. */
export function planHour(
  listing: readonly ArchiveObject[],
  manifest: ArchiveManifest | null,
  now: number,
  options: { maxRowsPerFile: number; strayMinAgeMs: number },
): HourPlan {
  const sources = new Set(manifest?.sources ?? []);
  const current = new Set(manifest?.files.map((f) => f.key) ?? []);
  const plan: HourPlan = { deletable: [], live: [], mergeable: [], youngStrays: [] };
  for (const object of listing) {
    const kind = fileKind(object.key);
    if (kind === "batch") (sources.has(object.key) ? plan.deletable : plan.live).push(object.key);
    else if (kind === "compacted" && !current.has(object.key)) {
      if (sources.has(object.key) || now - object.uploaded >= options.strayMinAgeMs) plan.deletable.push(object.key);
      else plan.youngStrays.push(object.key);
    }
  }
  plan.live.sort();
  if (plan.live.length > 0 && manifest) {
    const listed = new Set(listing.map((o) => o.key));
    let rows = 0;
    for (const file of [...manifest.files].sort((a, b) => a.rows - b.rows)) {
      if (!listed.has(file.key) || rows + file.rows >= options.maxRowsPerFile / 2) break;
      plan.mergeable.push(file);
      rows += file.rows;
    }
  }
  return plan;
}

/**
 * What makes two archived rows the same event: its property and its event id. Event ids are only
 * unique within a property (clients may send their own, such as "1"), and the pooled partition
 * holds many properties' rows. `|` cannot occur in a property id.
 */
export function rowKeys(columns: ArchiveColumns): string[] {
  const properties = columns.property_id as string[];
  return (columns.event_id as string[]).map((id, i) => `${properties[i]}|${id}`);
}

/**
 * The rows to keep, in archive order (event time, then event id): one per event (property and
 * event id) — the earliest accepted — and none whose key (rowKeys) is in `exclude`.
 */
export function dedupeOrder(columns: ArchiveColumns, exclude?: ReadonlySet<string>): number[] {
  const ids = columns.event_id as string[];
  const keys = rowKeys(columns);
  const received = columns.received_at as number[];
  const times = columns.event_timestamp as number[];
  const best = new Map<string, number>();
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (exclude?.has(key)) continue;
    const seen = best.get(key);
    if (seen === undefined || (received[i] as number) < (received[seen] as number)) best.set(key, i);
  }
  return [...best.values()].sort(
    (a, b) =>
      (times[a] as number) - (times[b] as number) ||
      ((ids[a] as string) < (ids[b] as string) ? -1 : (ids[a] as string) > (ids[b] as string) ? 1 : 0),
  );
}

/** dedupeOrder over records: one per event (property and event id), the earliest accepted, in archive order. */
export function dedupeRecords(records: readonly ArchiveRecord[]): { kept: ArchiveRecord[]; dropped: number } {
  const order = dedupeOrder(recordsToColumns(records));
  return { kept: order.map((i) => records[i] as ArchiveRecord), dropped: records.length - order.length };
}
