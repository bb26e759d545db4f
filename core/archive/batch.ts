/**
 * How a batch of queue messages becomes archive files: its events grouped by property and hour
 * (the partition), one Parquet file per group, named from the ids of the messages in the group —
 * so a redelivered batch rewrites the same keys with the same bytes instead of adding a copy.
 * Each write also marks the hour as pending, for compaction to find it without listing the archive.
 */

import type { EventsMessage } from "../ingest/queue-message.ts";
import { HOUR_MS } from "../time.ts";
import {
  type ArchivePartition,
  type ArchiveRecord,
  batchFileKey,
  deterministicId,
  hourStart,
  partitionOf,
  pendingKey,
  toArchiveRecord,
} from "./layout.ts";
import { type ArchiveCodec, compareRecords, encodeArchiveFile } from "./parquet.ts";
import type { ArchiveStore } from "./store.ts";

/** A parsed queue message: its id (stable across redeliveries) and body. */
export interface ArchiveMessage {
  id: string;
  body: EventsMessage;
}

/** The events of one partition within a batch, and the messages they came from. */
export interface ArchiveGroup {
  partition: ArchivePartition;
  messageIds: string[];
  records: ArchiveRecord[];
}

/** Groups messages' events by partition; records in archive order, message ids sorted. */
export function groupMessages(messages: readonly ArchiveMessage[]): ArchiveGroup[] {
  const groups = new Map<string, ArchiveGroup>();
  const ordered = [...messages].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const { id, body } of ordered) {
    for (const event of body.events) {
      const partition = partitionOf(event.property_id, event.event_timestamp);
      const name = `${partition.property_id}/${partition.dt}/${partition.hour}`;
      let group = groups.get(name);
      if (!group) {
        group = { partition, messageIds: [], records: [] };
        groups.set(name, group);
      }
      if (group.messageIds.at(-1) !== id) group.messageIds.push(id);
      group.records.push(toArchiveRecord(event, body.received_at));
    }
  }
  for (const group of groups.values()) group.records.sort(compareRecords);
  return [...groups.values()];
}

/** A group encoded as its batch file. Throws only on data the encoder refuses. */
export interface EncodedGroup {
  group: ArchiveGroup;
  key: string;
  bytes: Uint8Array;
}

export async function encodeGroup(group: ArchiveGroup, codec: ArchiveCodec): Promise<EncodedGroup> {
  const key = batchFileKey(group.partition, await deterministicId(group.messageIds));
  const bytes = encodeArchiveFile(group.records, codec, {
    metadata: { "tally.archive.messages": group.messageIds.join(",") },
  });
  return { group, key, bytes };
}

const EMPTY = new Uint8Array(0);

/**
 * The pending markers one isolate wrote for hours that are still open. Compaction never touches an
 * open hour (it waits until the hour has ended and then some), so such a marker cannot have been
 * cleared meanwhile and need not be written again: live traffic costs one marker write per property
 * and hour per isolate instead of one per file. From the hour's end on, every file writes its marker.
 */
export class PendingMarks {
  private readonly open = new Map<string, number>();

  /** Whether the marker of a file written at `now` must be written. */
  needed(partition: ArchivePartition, now: number): boolean {
    return now >= hourStart(partition) + HOUR_MS || !this.open.has(pendingKey(partition));
  }

  /** Records a marker written at `now`, and forgets hours that have ended. */
  written(partition: ArchivePartition, now: number): void {
    const end = hourStart(partition) + HOUR_MS;
    if (now < end) this.open.set(pendingKey(partition), end);
    for (const [key, hourEnd] of this.open) if (hourEnd <= now) this.open.delete(key);
  }
}

/**
 * Stores an encoded group, then marks its hour pending — in that order, so a marker never precedes
 * its file (compaction relies on it) — unless `marks` knows this open hour is marked already.
 */
export async function storeGroup(
  store: ArchiveStore,
  encoded: EncodedGroup,
  marks?: PendingMarks,
  now: number = Date.now(),
): Promise<void> {
  const { partition } = encoded.group;
  await store.put(encoded.key, encoded.bytes);
  if (marks && !marks.needed(partition, now)) return;
  await store.put(pendingKey(partition), EMPTY);
  marks?.written(partition, now);
}
