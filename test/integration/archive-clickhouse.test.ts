/**
 * The archive's Parquet files read by ClickHouse itself (`file(…, Parquet)` on the run's embedded
 * engine): the types it infers are the event schema's, and a batch file and a compacted file each
 * refill the `events` table with exactly the rows the live path writes (toClickHouseRow).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGroup, groupMessages, storeGroup } from "../../core/archive/batch.ts";
import { compactHour } from "../../core/archive/compaction.ts";
import {
  ARCHIVE_COLUMNS,
  ArchiveManifestSchema,
  manifestKey,
  partitionOf,
  toArchiveRecord,
} from "../../core/archive/layout.ts";
import { encodeArchiveFile } from "../../core/archive/parquet.ts";
import { MemoryArchiveStore } from "../../core/archive/store.ts";
import { EVENT_COLUMNS, type EventRow, toClickHouseRow } from "../../core/clickhouse-row.ts";
import type { Event } from "../../core/event.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { zstdCodec } from "../../platform/archive/zstd.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

const T = Date.UTC(2026, 10, 26, 9, 30, 15, 123);
const RECEIVED = T + 2_500;
let client: ClickHouseClient;
const dir = mkdtempSync(join(tmpdir(), "tally-archive-ch-"));

beforeAll(async () => {
  ({ client } = await freshDatabase("archive_ch"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const events: Event[] = [
  makeEvent({
    event_id: "full",
    user_id: "u-1",
    page_title: "Ünïcödé — 漢字 🎉 'quoted'",
    referrer: "https://www.google.com/search?q=x",
    screen_resolution: "1920x1080",
    viewport_size: "1280x720",
    language: "de-DE",
    custom_dimensions: { plan: "pro", empty: "" },
    custom_metrics: { revenue: 12.5, big: 1e300, negative: -3 },
    asn: 4_294_967_295,
    is_bot: true,
    bot_reason: "headless",
    interactive: false,
  }),
  makeEvent({ event_id: "bare", event_timestamp: T + 1 }),
  makeEvent({ event_id: "empty", event_timestamp: T + 2, referrer: "", custom_dimensions: {}, custom_metrics: {} }),
];

function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** INSERT INTO events … SELECT … FROM file(path, Parquet): every events column from its archive column. */
async function refill(path: string): Promise<void> {
  const select = Object.keys(EVENT_COLUMNS).map((column) => {
    if (column === "session_id") return "'' AS session_id";
    const spec = ARCHIVE_COLUMNS[column as keyof typeof ARCHIVE_COLUMNS];
    return spec.optional && spec.kind === "string" ? `ifNull(${column}, '') AS ${column}` : column;
  });
  // The path is a temporary directory's: no quotes in it.
  await client.command({ query: `INSERT INTO events SELECT ${select.join(", ")} FROM file('${path}', Parquet)` });
}

async function stored(ids: string[]): Promise<EventRow[]> {
  return rows<EventRow>(client, "SELECT * FROM events WHERE event_id IN {ids:Array(String)} ORDER BY event_timestamp", {
    ids,
  });
}

describe("ClickHouse reading archive Parquet", () => {
  it("infers the event schema's types from a file", async () => {
    const path = writeTemp(
      "types.parquet",
      encodeArchiveFile([toArchiveRecord(events[0] as Event, RECEIVED)], zstdCodec),
    );
    const described = await rows<{ name: string; type: string }>(client, `DESCRIBE file('${path}', Parquet)`);
    const types = Object.fromEntries(described.map((d) => [d.name, d.type]));
    expect(Object.keys(types)).toEqual(Object.keys(ARCHIVE_COLUMNS));
    expect(types).toMatchObject({
      event_id: "String",
      user_id: "Nullable(String)",
      event_timestamp: "DateTime64(3, 'UTC')",
      received_at: "DateTime64(3, 'UTC')",
      custom_dimensions: "Map(String, String)",
      custom_metrics: "Map(String, Float64)",
      interactive: "Bool",
      is_bot: "Bool",
      asn: "Int64",
    });
  });

  it("refills the events table from a batch file with exactly the rows the live path writes", async () => {
    const path = writeTemp(
      "batch.parquet",
      encodeArchiveFile(
        events.map((e) => toArchiveRecord(e, RECEIVED)),
        zstdCodec,
      ),
    );
    await refill(path);
    const expected = events.map((e) => ({ ...toClickHouseRow(e, RECEIVED), session_id: "" }));
    expect(await stored(events.map((e) => e.event_id))).toEqual(expected);
  });

  it("reads a compacted file: ClickHouse counts the rows and the time range its manifest states", async () => {
    const store = new MemoryArchiveStore();
    const many = Array.from({ length: 500 }, (_, i) =>
      makeEvent({
        property_id: "UA-CHCOMPACT-1",
        event_id: `cc-${i}`,
        client_id: `v${i % 37}`,
        event_timestamp: T + i * 997,
        page_url: `https://example.com/p/${i % 11}`,
        page_path: `/p/${i % 11}`,
        custom_metrics: i % 3 === 0 ? { n: i } : undefined,
      }),
    );
    for (let b = 0; b < 5; b++) {
      const batch = [
        { id: `m${b}`, body: { v: 1 as const, received_at: RECEIVED, events: many.slice(b * 100, b * 100 + 100) } },
      ];
      for (const group of groupMessages(batch)) await storeGroup(store, await encodeGroup(group, zstdCodec));
    }
    const partition = partitionOf("UA-CHCOMPACT-1", T);
    await compactHour(store, zstdCodec, partition, { now: () => T + 3 * 3_600_000 });
    const manifest = ArchiveManifestSchema.parse(
      JSON.parse(new TextDecoder().decode((await store.get(manifestKey(partition)))?.body)),
    );
    const [file] = manifest.files;
    const path = writeTemp("compacted.parquet", (await store.get(file?.key ?? ""))?.body ?? new Uint8Array());
    const [summary] = await rows<{ n: string; lo: string; hi: string; metrics: string }>(
      client,
      `SELECT count() AS n, toUnixTimestamp64Milli(min(event_timestamp)) AS lo,
              toUnixTimestamp64Milli(max(event_timestamp)) AS hi, countIf(length(custom_metrics) > 0) AS metrics
       FROM file('${path}', Parquet)`,
    );
    expect(Number(summary?.n)).toBe(manifest.rows);
    expect(Number(summary?.lo)).toBe(manifest.min_event_timestamp);
    expect(Number(summary?.hi)).toBe(manifest.max_event_timestamp);
    expect(Number(summary?.metrics)).toBe(many.filter((e) => e.custom_metrics).length);
    await refill(path);
    const back = await stored(many.map((e) => e.event_id));
    expect(back).toHaveLength(500);
    expect(back).toEqual(many.map((e) => ({ ...toClickHouseRow(e, RECEIVED), session_id: "" })));
  });
});
