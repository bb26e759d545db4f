/**
 * The archive's pure core: the Parquet schema equals the event schema (contract), records round-trip
 * exactly, keys and partitions, deterministic ids, the readable file set, the lifecycle rules.
 */
import { parquetMetadata } from "hyparquet";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { groupMessages, PendingMarks } from "../../core/archive/batch.ts";
import {
  ARCHIVE_COLUMNS,
  ARCHIVE_ENVELOPE_COLUMNS,
  type ArchiveManifest,
  type ArchiveRecord,
  archiveLifecycleRules,
  batchFileKey,
  compactedFileKey,
  deterministicId,
  fileKind,
  fromArchiveRecord,
  liveFiles,
  manifestKey,
  parsePendingKey,
  partitionOf,
  pendingKey,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { decodeArchiveFile, encodeArchiveFile, recordsChecksum } from "../../core/archive/parquet.ts";
import { EventSchema } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";

const T = Date.UTC(2026, 10, 26, 9, 30, 15, 123);

/** The archive column kind a zod field calls for (its natural Parquet type). */
function kindOf(name: string, field: z.ZodType): { kind: string; optional: boolean } {
  let schema = field;
  let optional = false;
  if (schema.def.type === "optional") {
    optional = true;
    schema = (schema.def as unknown as { innerType: z.ZodType }).innerType;
  }
  const type = schema.def.type;
  if (type === "boolean") return { kind: "boolean", optional };
  if (type === "number") return { kind: name === "event_timestamp" ? "timestamp_ms" : "int64", optional };
  if (type === "record") {
    const value = (schema.def as unknown as { valueType: z.ZodType }).valueType.def.type;
    return { kind: value === "number" ? "map_double" : "map_string", optional };
  }
  if (["string", "enum", "literal", "union"].includes(type)) return { kind: "string", optional };
  throw new Error(`${name}: unexpected zod type ${type}`);
}

describe("contract: the Parquet schema ⇔ core/event.ts EventSchema", () => {
  it("has one column per event field plus received_at, and nothing else", () => {
    const fields = Object.keys(EventSchema.shape).sort();
    const columns = Object.keys(ARCHIVE_COLUMNS).filter(
      (c) => !(ARCHIVE_ENVELOPE_COLUMNS as readonly string[]).includes(c),
    );
    expect(columns.sort()).toEqual(fields);
  });

  it("gives every field its natural type, nullable exactly when the field is optional", () => {
    for (const [name, field] of Object.entries(EventSchema.shape)) {
      expect({ name, ...kindOf(name, field as z.ZodType) }).toEqual({
        name,
        ...ARCHIVE_COLUMNS[name as keyof typeof ARCHIVE_COLUMNS],
      });
    }
    expect(ARCHIVE_COLUMNS.received_at).toEqual({ kind: "timestamp_ms", optional: false });
    // asn is an integer field: INT64, never a double.
    expect(EventSchema.shape.asn.safeParse(1.5).success).toBe(false);
  });

  it("writes files whose footer holds exactly those columns with the physical types chosen", () => {
    const bytes = encodeArchiveFile([toArchiveRecord(makeEvent(), T)], zstdCodec);
    const schema = parquetMetadata(bytes.buffer as ArrayBuffer).schema;
    const top = schema.slice(1).filter((e) => !["key_value", "key", "value"].includes(e.name));
    expect(top.map((e) => e.name)).toEqual(Object.keys(ARCHIVE_COLUMNS));
    const byName = Object.fromEntries(top.map((e) => [e.name, e]));
    expect(byName.event_timestamp).toMatchObject({
      type: "INT64",
      logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
      repetition_type: "REQUIRED",
    });
    expect(byName.page_url).toMatchObject({ type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" });
    expect(byName.user_id).toMatchObject({ type: "BYTE_ARRAY", repetition_type: "OPTIONAL" });
    expect(byName.is_bot).toMatchObject({ type: "BOOLEAN" });
    expect(byName.asn).toMatchObject({ type: "INT64" });
    expect(byName.custom_metrics).toMatchObject({ converted_type: "MAP", repetition_type: "OPTIONAL" });
    const metricValue = schema[schema.findIndex((e) => e.name === "custom_metrics") + 3];
    expect(metricValue).toMatchObject({ name: "value", type: "DOUBLE" });
  });
});

describe("archive files", () => {
  const full = makeEvent({
    event_id: "full",
    user_id: "u-1",
    page_title: "Ünïcödé — 漢字 🎉",
    referrer: "https://www.google.com/search?q=x",
    screen_resolution: "1920x1080",
    viewport_size: "1280x720",
    language: "de-DE",
    custom_dimensions: { plan: "pro", "a.b:c$-": "" },
    custom_metrics: { revenue: 12.5, big: 1e300, small: -3, int: 7 },
    asn: 4_294_967_295,
    is_bot: true,
    bot_reason: "headless",
    interactive: false,
  });
  const bare = makeEvent({ event_id: "bare", event_timestamp: T + 1 });
  const empty = makeEvent({
    event_id: "empty",
    event_timestamp: T + 2,
    referrer: "",
    page_title: "",
    custom_dimensions: {},
    custom_metrics: {},
  });

  it("read back exactly as written: absent stays absent, empty stays empty, ms timestamps, every type", async () => {
    const records = [full, bare, empty].map((e, i) => toArchiveRecord(e, T + 10 + i));
    const decoded = await decodeArchiveFile(encodeArchiveFile(records, zstdCodec), zstdCodec);
    expect(decoded).toEqual(records);
    expect(decoded[1]).not.toHaveProperty("user_id");
    expect(decoded[1]).not.toHaveProperty("custom_metrics");
    expect(decoded[2]?.custom_metrics).toEqual({});
    for (const r of decoded) expect(EventSchema.parse(fromArchiveRecord(r).event)).toEqual(fromArchiveRecord(r).event);
    expect(await recordsChecksum(decoded)).toBe(await recordsChecksum(records));
  });

  it("are deterministic: the same records give the same bytes", () => {
    const records = [toArchiveRecord(full, T)];
    expect(encodeArchiveFile(records, zstdCodec)).toEqual(encodeArchiveFile(records, zstdCodec));
  });

  it("compress a realistic thousand events to a few dozen bytes each", () => {
    const records: ArchiveRecord[] = Array.from({ length: 1000 }, (_, i) =>
      toArchiveRecord(
        makeEvent({
          event_id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, "0")}`,
          client_id: `client-${i % 300}`,
          event_timestamp: T + i * 1000,
          page_url: `https://example.com/page/${i % 40}`,
          page_path: `/page/${i % 40}`,
        }),
        T + i * 1000 + 40,
      ),
    );
    const bytes = encodeArchiveFile(records, zstdCodec).byteLength;
    expect(bytes / records.length).toBeLessThan(60);
  });
});

describe("keys and partitions", () => {
  it("partitions by the event's own UTC hour", () => {
    expect(partitionOf("UA-1-1", Date.UTC(2026, 0, 2, 3, 59, 59, 999))).toEqual({
      property_id: "UA-1-1",
      dt: "2026-01-02",
      hour: "03",
    });
    const p = partitionOf("UA-1-1", Date.UTC(2026, 0, 2, 23, 0));
    expect(batchFileKey(p, "ab12")).toBe("events/property_id=UA-1-1/dt=2026-01-02/hour=23/batch-ab12.parquet");
    expect(compactedFileKey(p, "cd")).toBe("events/property_id=UA-1-1/dt=2026-01-02/hour=23/compacted-cd.parquet");
    expect(manifestKey(p)).toBe("events/property_id=UA-1-1/dt=2026-01-02/hour=23/_manifest.json");
    expect(pendingKey(p)).toBe("_pending/property_id=UA-1-1/dt=2026-01-02/hour=23");
    expect(parsePendingKey(pendingKey(p))).toEqual(p);
    expect(parsePendingKey("_pending/property_id=../dt=2026-01-02/hour=23")).toBeNull();
    expect(parsePendingKey("events/property_id=UA-1-1/dt=2026-01-02/hour=23")).toBeNull();
  });

  it("derives file ids from message ids in any order, and different sets give different ids", async () => {
    expect(await deterministicId(["m2", "m1"])).toBe(await deterministicId(["m1", "m2"]));
    expect(await deterministicId(["m1"])).not.toBe(await deterministicId(["m1", "m2"]));
    expect(await deterministicId(["m1"])).toMatch(/^[0-9a-f]{32}$/);
  });

  it("groups a batch by property and hour, each group naming its messages and holding their events in time order", () => {
    const a = makeEvent({ property_id: "UA-A-1", event_id: "a2", event_timestamp: T + 5 });
    const b = makeEvent({ property_id: "UA-A-1", event_id: "a1", event_timestamp: T });
    const c = makeEvent({ property_id: "UA-B-1", event_id: "b1", event_timestamp: T + 3_600_000 });
    const groups = groupMessages([
      { id: "m2", body: { v: 1, received_at: 2, events: [a, c] } },
      { id: "m1", body: { v: 1, received_at: 1, events: [b] } },
    ]);
    expect(
      groups.map((g) => [g.partition.property_id, g.partition.hour, g.messageIds, g.records.map((r) => r.event_id)]),
    ).toEqual([
      ["UA-A-1", "09", ["m1", "m2"], ["a1", "a2"]],
      ["UA-B-1", "10", ["m2"], ["b1"]],
    ]);
    expect(groups[0]?.records[0]?.received_at).toBe(1);
  });

  it("reads an hour from its manifest's files plus batch files the manifest has not merged", () => {
    const prefix = "events/property_id=UA-1-1/dt=2026-01-02/hour=03/";
    const manifest = {
      files: [{ key: `${prefix}compacted-aa.parquet` }],
      sources: [`${prefix}batch-01.parquet`],
    } as unknown as ArchiveManifest;
    const listed = [
      `${prefix}batch-01.parquet`,
      `${prefix}batch-02.parquet`,
      `${prefix}compacted-aa.parquet`,
      `${prefix}compacted-bb.parquet`,
      `${prefix}_manifest.json`,
    ];
    expect(liveFiles(listed, manifest)).toEqual([`${prefix}compacted-aa.parquet`, `${prefix}batch-02.parquet`]);
    expect(liveFiles(listed.slice(0, 2), null)).toEqual([`${prefix}batch-01.parquet`, `${prefix}batch-02.parquet`]);
    expect(fileKind(`${prefix}_manifest.json`)).toBe("manifest");
    expect(fileKind(`${prefix}notes.txt`)).toBe("other");
  });
});

describe("pending markers", () => {
  it("are written once per open hour by an isolate, and for every file once the hour has ended", () => {
    const marks = new PendingMarks();
    const p = partitionOf("UA-1-1", T);
    const hourEnd = Date.UTC(2026, 10, 26, 10);
    expect(marks.needed(p, T)).toBe(true);
    marks.written(p, T);
    expect(marks.needed(p, T + 1000)).toBe(false);
    expect(marks.needed(partitionOf("UA-2-1", T), T)).toBe(true);
    expect(marks.needed(p, hourEnd)).toBe(true);
    marks.written(p, hourEnd);
    expect(marks.needed(p, hourEnd + 1)).toBe(true);
  });
});

describe("lifecycle", () => {
  it("moves archived events to cold storage after 90 days and deletes them after the compliance period", () => {
    expect(archiveLifecycleRules(730)).toEqual({
      Rules: [
        {
          ID: "tally-archive-cold",
          Status: "Enabled",
          Filter: { Prefix: "events/" },
          Transitions: [{ Days: 90, StorageClass: "STANDARD_IA" }],
        },
        { ID: "tally-archive-retention", Status: "Enabled", Filter: { Prefix: "events/" }, Expiration: { Days: 730 } },
      ],
    });
    expect(archiveLifecycleRules(30).Rules.map((r) => r.ID)).toEqual(["tally-archive-retention"]);
  });
});
