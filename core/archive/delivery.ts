/**
 * The archive's one hand-off (issue #14): the events consumer archives each delivery before anything
 * acts on it, so an event is archived before it is live, never the reverse. It writes the
 * per-property-hour layout (core/archive/layout.ts) directly: one batch file per property-hour with
 * at least POOL_BELOW_ROWS rows in the delivery, and one per hour pooling the rest
 * (`property_id=tally-pooled`), each followed by its pending marker. At volume a delivery spans
 * nearly every property, so a file per property-hour would cost far more R2 writes than the events
 * are worth; pooled, a delivery is one or a few files. The files are readable at once (a property's
 * hour is its own files plus its rows in the pooled hour), and compaction merges them later.
 *
 * Files are named from the delivery's message ids, so a redelivered batch rewrites its own files;
 * one redelivered in another grouping writes copies, which compaction (within a partition) and
 * replay (across a property's own and the pooled partition) collapse by property and event id.
 */
import { POOLED_ARCHIVE_ID } from "../event.ts";
import { type ArchiveGroup, type ArchiveMessage, type EncodedGroup, encodeGroup, groupMessages } from "./batch.ts";
import { type ArchiveCodec, compareRecords } from "./parquet.ts";

/** A property-hour with fewer rows than this in a delivery goes to the hour's pooled file. */
export const POOL_BELOW_ROWS = 1_000;

/** A delivery's events grouped into the files it writes: busy property-hours alone, the rest pooled per hour. */
export function groupDelivery(messages: readonly ArchiveMessage[], poolBelow = POOL_BELOW_ROWS): ArchiveGroup[] {
  const ids = messages.map((m) => m.id).sort();
  const groups = new Map<string, ArchiveGroup>();
  for (const { partition, records } of groupMessages(messages)) {
    const own = records.length >= poolBelow ? partition : { ...partition, property_id: POOLED_ARCHIVE_ID };
    const name = `${own.property_id}/${own.dt}/${own.hour}`;
    const group = groups.get(name);
    if (group) group.records.push(...records);
    else groups.set(name, { partition: own, messageIds: ids, records });
  }
  // A pooled group gathers several partitions' runs, each in archive order: order them as one.
  for (const group of groups.values())
    if (group.partition.property_id === POOLED_ARCHIVE_ID) group.records.sort(compareRecords);
  return [...groups.values()];
}

/** The files of a delivery. Throws only on data the encoder refuses. */
export async function encodeDelivery(
  messages: readonly ArchiveMessage[],
  codec: ArchiveCodec,
  poolBelow = POOL_BELOW_ROWS,
): Promise<EncodedGroup[]> {
  const files: EncodedGroup[] = [];
  for (const group of groupDelivery(messages, poolBelow)) files.push(await encodeGroup(group, codec));
  return files;
}

/**
 * The files of the messages the encoder accepts. When it refuses the delivery, each message is
 * tried alone and the ones at fault are named, so only they are retried and the rest go on.
 */
export async function encodeDeliveryIsolating(
  messages: readonly ArchiveMessage[],
  codec: ArchiveCodec,
  poolBelow = POOL_BELOW_ROWS,
): Promise<{ files: EncodedGroup[]; accepted: string[]; refused: string[] }> {
  try {
    return {
      files: await encodeDelivery(messages, codec, poolBelow),
      accepted: messages.map((m) => m.id),
      refused: [],
    };
  } catch (error) {
    if (messages.length === 1) return { files: [], accepted: [], refused: [messages[0]?.id ?? ""] };
    const refused: string[] = [];
    for (const m of messages) {
      try {
        await encodeDelivery([m], codec, poolBelow);
      } catch {
        refused.push(m.id);
      }
    }
    // Refused as a whole yet fine one by one: nothing to isolate, so the delivery is retried.
    if (refused.length === 0) throw error;
    const rest = messages.filter((m) => !refused.includes(m.id));
    if (rest.length === 0) return { files: [], accepted: [], refused };
    return { files: await encodeDelivery(rest, codec, poolBelow), accepted: rest.map((m) => m.id), refused };
  }
}
