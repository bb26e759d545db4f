/**
 * The archive's raw-user-agent pass (core/privacy/raw-user-agent.ts) over the in-memory store:
 * days older than RAW_USER_AGENT_DAYS (plus the grace day) lose `user_agent` in every property's
 * own and pooled hours, newer days keep it, each partition is passed once, and a run cut short by
 * its deadline resumes where it stopped.
 */
import { describe, expect, it } from "vitest";
import { encodeGroup, storeGroup } from "../../core/archive/batch.ts";
import {
  type ArchivePartition,
  type ArchiveRecord,
  hourPrefix,
  liveFiles,
  manifestKey,
  partitionOf,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { decodeArchiveFile } from "../../core/archive/parquet.ts";
import { type ArchiveStore, listAll, MemoryArchiveStore } from "../../core/archive/store.ts";
import { POOLED_ARCHIVE_ID } from "../../core/event.ts";
import {
  dueBefore,
  expireRawUserAgents,
  RAW_USER_AGENT_PROGRESS_KEY,
  RawUserAgentProgressSchema,
} from "../../core/privacy/raw-user-agent.ts";
import { DAY_MS, HOUR_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

const NOW = Date.UTC(2026, 11, 2, 10, 10);
const DAYS = 30;
const OLD = Date.UTC(2026, 9, 20); // 43 days before NOW: due
const EDGE = dueBefore(NOW, DAYS) - DAY_MS; // the newest due day
const RECENT = dueBefore(NOW, DAYS); // not due yet

async function write(store: ArchiveStore, property: string, at: number, n: number, pooled = false): Promise<void> {
  const partition = partitionOf(pooled ? POOLED_ARCHIVE_ID : property, at);
  const records = Array.from({ length: n }, (_, i) =>
    toArchiveRecord(
      makeEvent({ property_id: property, event_id: `${property}-${at}-${i}`, event_timestamp: at + i * 1000 }),
      at,
    ),
  );
  await storeGroup(store, await encodeGroup({ partition, messageIds: [`${property}-${at}`], records }, zstdCodec));
}

async function readable(store: ArchiveStore, p: ArchivePartition): Promise<ArchiveRecord[]> {
  const keys = (await listAll(store, hourPrefix(p))).map((o) => o.key);
  const m = await store.get(manifestKey(p));
  const manifest = m ? JSON.parse(new TextDecoder().decode(m.body)) : null;
  const out: ArchiveRecord[] = [];
  for (const key of liveFiles(keys, manifest))
    out.push(...(await decodeArchiveFile((await store.get(key))?.body ?? new Uint8Array(), zstdCodec)));
  return out;
}

async function archive(): Promise<MemoryArchiveStore> {
  const store = new MemoryArchiveStore(() => NOW);
  await write(store, "UA-A-1", OLD + 9 * HOUR_MS, 3);
  await write(store, "UA-A-1", OLD + 15 * HOUR_MS, 2);
  await write(store, "UA-B-1", OLD + 9 * HOUR_MS, 2, true);
  await write(store, "UA-B-1", EDGE + 23 * HOUR_MS, 2);
  await write(store, "UA-A-1", RECENT + 1 * HOUR_MS, 2);
  return store;
}

const options = (deadline = Number.POSITIVE_INFINITY, now = () => NOW) => ({
  now,
  deadline,
  rawUserAgentDays: DAYS,
  start: async () => OLD,
});

describe("the archive's raw-user-agent pass", () => {
  it("drops user_agent in every due hour, own and pooled, and keeps it in newer days", async () => {
    const store = await archive();
    const report = await expireRawUserAgents(store, zstdCodec, ["UA-A-1", "UA-B-1"], options());
    expect(report).toMatchObject({ partitions: 4, files_rewritten: 4, rows_changed: 9, errors: [] });
    expect(report.progress).toEqual({ version: 1, day: RECENT, after: null });
    for (const at of [OLD + 9 * HOUR_MS, OLD + 15 * HOUR_MS]) {
      const rows = await readable(store, partitionOf("UA-A-1", at));
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.user_agent === undefined && r.browser === "Chrome")).toBe(true);
    }
    const pooled = await readable(store, partitionOf(POOLED_ARCHIVE_ID, OLD + 9 * HOUR_MS));
    expect(pooled.map((r) => [r.property_id, r.user_agent])).toEqual([
      ["UA-B-1", undefined],
      ["UA-B-1", undefined],
    ]);
    expect((await readable(store, partitionOf("UA-B-1", EDGE + 23 * HOUR_MS)))[0]?.user_agent).toBeUndefined();
    expect((await readable(store, partitionOf("UA-A-1", RECENT + HOUR_MS)))[0]?.user_agent).toContain("Mozilla");
  });

  it("passes a day once: the next run reads its progress and writes nothing", async () => {
    const store = await archive();
    await expireRawUserAgents(store, zstdCodec, ["UA-A-1", "UA-B-1"], options());
    const before = new Map((await listAll(store, "")).map((o) => [o.key, o.etag]));
    const again = await expireRawUserAgents(
      store,
      zstdCodec,
      ["UA-A-1", "UA-B-1"],
      options(undefined, () => NOW + HOUR_MS),
    );
    expect(again).toMatchObject({ days_done: 0, partitions: 0 });
    expect(new Map((await listAll(store, "")).map((o) => [o.key, o.etag]))).toEqual(before);
  });

  it("resumes where a run's deadline stopped it, passing each partition once in all", async () => {
    const store = await archive();
    let clock = NOW;
    // Each clock reading is a second later; the deadline falls after two partitions.
    const ticking = () => (clock += 1000);
    const first = await expireRawUserAgents(store, zstdCodec, ["UA-A-1", "UA-B-1"], options(NOW + 4500, ticking));
    expect(first.partitions).toBeGreaterThan(0);
    expect(first.partitions).toBeLessThan(4);
    const saved = RawUserAgentProgressSchema.parse(
      JSON.parse(new TextDecoder().decode((await store.get(RAW_USER_AGENT_PROGRESS_KEY))?.body)),
    );
    expect(saved).toEqual(first.progress);
    expect(saved.after).not.toBeNull();
    const rest = await expireRawUserAgents(store, zstdCodec, ["UA-A-1", "UA-B-1"], options());
    expect(first.partitions + rest.partitions).toBe(4);
    expect(first.files_rewritten + rest.files_rewritten).toBe(4);
  });
});
