/**
 * The archive's one hand-off (core/archive/delivery.ts): a consumer delivery as the per-property-hour
 * layout's files — busy property-hours alone, the rest pooled per hour — under keys from its message
 * ids; the encoder's refusals isolated per message; two properties' events that share an event id
 * kept apart through compaction; and a redelivery in another grouping leaving copies that readers
 * and compaction collapse.
 */
import { describe, expect, it } from "vitest";
import { type ArchiveMessage, PendingMarks, storeGroup } from "../../core/archive/batch.ts";
import { compactPending } from "../../core/archive/compaction.ts";
import { readManifest } from "../../core/archive/compaction-step.ts";
import { encodeDelivery, encodeDeliveryIsolating, groupDelivery } from "../../core/archive/delivery.ts";
import { hourPrefix, liveFiles, partitionOf } from "../../core/archive/layout.ts";
import { type ArchiveCodec, decodeArchiveFile } from "../../core/archive/parquet.ts";
import { dedupeRecords } from "../../core/archive/plan.ts";
import { listAll, MemoryArchiveStore } from "../../core/archive/store.ts";
import { type Event, POOLED_ARCHIVE_ID } from "../../core/event.ts";
import { HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

const T = Date.UTC(2026, 10, 26, 9, 30);
const ev = (property: string, n: number, at = T + n): Event =>
  makeEvent({ property_id: property, event_id: `e${n}`, event_timestamp: at });
const message = (id: string, events: Event[]): ArchiveMessage => ({ id, body: { v: 1, received_at: T, events } });

/** What a reader of one property's hour sees: its own files and its rows in the pooled hour, deduplicated. */
async function readable(store: MemoryArchiveStore, property: string, at: number): Promise<string[]> {
  const records = [];
  for (const id of [property, POOLED_ARCHIVE_ID]) {
    const partition = partitionOf(id, at);
    const listed = (await listAll(store, hourPrefix(partition))).map((o) => o.key);
    const { manifest } = await readManifest(store, partition);
    for (const key of liveFiles(listed, manifest)) {
      const file = await store.get(key);
      if (file) records.push(...(await decodeArchiveFile(file.body, zstdCodec)));
    }
  }
  return dedupeRecords(records.filter((r) => r.property_id === property))
    .kept.map((r) => r.event_id)
    .sort();
}

async function write(store: MemoryArchiveStore, messages: ArchiveMessage[], poolBelow = 3): Promise<void> {
  const marks = new PendingMarks();
  for (const file of await encodeDelivery(messages, zstdCodec, poolBelow)) await storeGroup(store, file, marks, T);
}

describe("a delivery's archive files", () => {
  it("give busy property-hours files of their own and pool the rest per hour, under keys from the message ids", async () => {
    const busy = [1, 2, 3].map((n) => ev("P-BUSY", n));
    const a = message("m2", [...busy, ev("P-A", 4), ev("P-B", 5, T + HOUR_MS)]);
    const b = message("m1", [ev("P-A", 6)]);
    const groups = groupDelivery([a, b], 3);
    const shape = groups.map((g) => [g.partition.property_id, g.partition.hour, g.records.length].join(" "));
    expect(shape.sort()).toEqual([`P-BUSY 09 3`, `${POOLED_ARCHIVE_ID} 09 2`, `${POOLED_ARCHIVE_ID} 10 1`].sort());
    // A pooled file's rows are in archive order across the properties it holds.
    const pooled09 = groups.find((g) => g.partition.property_id === POOLED_ARCHIVE_ID && g.partition.hour === "09");
    expect(pooled09?.records.map((r) => r.event_id)).toEqual(["e4", "e6"]);
    expect(groups.every((g) => g.messageIds.join() === "m1,m2")).toBe(true);
    const keys = (await encodeDelivery([a, b], zstdCodec, 3)).map((f) => f.key).sort();
    expect((await encodeDelivery([b, a], zstdCodec, 3)).map((f) => f.key).sort()).toEqual(keys);
    expect(keys[1]).toMatch(/^events\/property_id=tally-pooled\/dt=2026-11-26\/hour=09\/batch-[0-9a-f]{32}\.parquet$/);
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
    const result = await encodeDeliveryIsolating([good, poison], refusing);
    expect(result.refused).toEqual(["bad"]);
    expect(result.accepted).toEqual(["good"]);
    expect(result.files.map((f) => f.group.messageIds)).toEqual([["good"]]);
  });

  it("keep two properties' events that share an event id apart, through compaction of the pooled hour", async () => {
    const store = new MemoryArchiveStore(() => T);
    // Client-sent ids are unique within a property only: "e1" twice, once each.
    await write(store, [message("a", [ev("P-A", 1), ev("P-B", 1)])]);
    const report = await compactPending(store, zstdCodec, { now: () => T + 2 * HOUR_MS });
    expect(report).toMatchObject({ rows_written: 2, duplicates_dropped: 0, errors: [] });
    expect(await readable(store, "P-A", T)).toEqual(["e1"]);
    expect(await readable(store, "P-B", T)).toEqual(["e1"]);
  });

  it("redelivered in another grouping: copies, which readers and compaction collapse; nothing lost", async () => {
    const store = new MemoryArchiveStore(() => T);
    const m1 = message("m1", [ev("P-A", 1), ev("P-A", 2)]);
    const m2 = message("m2", [ev("P-A", 3)]);
    const m3 = message("m3", [ev("P-A", 4), ev("P-A", 5)]);
    await write(store, [m1, m2]);
    // m2 comes back with m3: P-A now has 3 rows in the delivery, so this copy is its own file.
    await write(store, [m2, m3]);
    expect(await readable(store, "P-A", T)).toEqual(["e1", "e2", "e3", "e4", "e5"]);
    await compactPending(store, zstdCodec, { now: () => T + 2 * HOUR_MS });
    expect(await readable(store, "P-A", T)).toEqual(["e1", "e2", "e3", "e4", "e5"]);
  });
});
