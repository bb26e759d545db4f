/**
 * The event archive's contract (issue #7): the Parquet column spec (= the event schema plus
 * `received_at`), archive records, object keys, the per-hour manifest, and the rules that say which
 * files of an hour hold its events. Pure and runtime-free: the archive consumer, the compaction job
 * and replay all build on it.
 *
 * Layout, under one bucket:
 *   events/property_id=<id>/dt=YYYY-MM-DD/hour=HH/batch-<id>.parquet      one consumer batch's events
 *   events/property_id=<id>/dt=YYYY-MM-DD/hour=HH/compacted-<id>.parquet  many batch files merged
 *   events/property_id=<id>/dt=YYYY-MM-DD/hour=HH/_manifest.json          what the compacted files hold
 *   _pending/property_id=<id>/dt=YYYY-MM-DD/hour=HH                        "this hour has batch files"
 * The hour is the event's own (event_timestamp, UTC), so warehouse queries prune by event time.
 */
import { z } from "zod";
import { type Event, EventSchema, PROPERTY_ID_PATTERN } from "../event.ts";
import { sha256Hex } from "../hash.ts";

/** How a column is stored in Parquet; see `parquetSchema` in archive-parquet.ts for the physical types. */
export type ArchiveColumnKind = "string" | "timestamp_ms" | "boolean" | "int64" | "map_string" | "map_double";

/**
 * Every Parquet column, in file order: each field of `EventSchema` with its natural type, plus the
 * envelope's `received_at`. Optional event fields are nullable columns (absent stays absent, so a
 * record reads back exactly as written); required fields are REQUIRED. The contract test
 * (test/unit/archive-schema.test.ts) holds this equal to the schema.
 */
export const ARCHIVE_COLUMNS = {
  event_id: { kind: "string", optional: false },
  property_id: { kind: "string", optional: false },
  client_id: { kind: "string", optional: false },
  user_id: { kind: "string", optional: true },
  event_type: { kind: "string", optional: false },
  event_timestamp: { kind: "timestamp_ms", optional: false },
  received_at: { kind: "timestamp_ms", optional: false },
  page_url: { kind: "string", optional: false },
  page_title: { kind: "string", optional: true },
  referrer: { kind: "string", optional: true },
  user_agent: { kind: "string", optional: true },
  screen_resolution: { kind: "string", optional: true },
  viewport_size: { kind: "string", optional: true },
  language: { kind: "string", optional: true },
  custom_dimensions: { kind: "map_string", optional: true },
  custom_metrics: { kind: "map_double", optional: true },
  visitor_id_source: { kind: "string", optional: false },
  source_protocol: { kind: "string", optional: false },
  interactive: { kind: "boolean", optional: false },
  browser: { kind: "string", optional: false },
  browser_version: { kind: "string", optional: false },
  os: { kind: "string", optional: false },
  os_version: { kind: "string", optional: false },
  device_type: { kind: "string", optional: false },
  country: { kind: "string", optional: false },
  region: { kind: "string", optional: false },
  city: { kind: "string", optional: false },
  continent: { kind: "string", optional: false },
  geo_timezone: { kind: "string", optional: false },
  asn: { kind: "int64", optional: false },
  page_host: { kind: "string", optional: false },
  page_path: { kind: "string", optional: false },
  utm_source: { kind: "string", optional: false },
  utm_medium: { kind: "string", optional: false },
  utm_campaign: { kind: "string", optional: false },
  utm_term: { kind: "string", optional: false },
  utm_content: { kind: "string", optional: false },
  click_id_type: { kind: "string", optional: false },
  referrer_host: { kind: "string", optional: false },
  source: { kind: "string", optional: false },
  channel: { kind: "string", optional: false },
  ip_prefix: { kind: "string", optional: false },
  is_bot: { kind: "boolean", optional: false },
  bot_reason: { kind: "string", optional: false },
} as const satisfies Record<string, { kind: ArchiveColumnKind; optional: boolean }>;

export type ArchiveColumn = keyof typeof ARCHIVE_COLUMNS;
/** Columns that are not event fields: the queue envelope's acceptance time. */
export const ARCHIVE_ENVELOPE_COLUMNS = ["received_at"] as const;

/** One archived event: the accepted event and when the edge accepted it (epoch ms). */
export const ArchiveRecordSchema = EventSchema.extend({ received_at: z.number().int() });
export type ArchiveRecord = z.infer<typeof ArchiveRecordSchema>;

export function toArchiveRecord(event: Event, receivedAt: number): ArchiveRecord {
  return { ...event, received_at: receivedAt };
}

/** Splits a record back into the event and its acceptance time (what replay feeds the pipeline). */
export function fromArchiveRecord(record: ArchiveRecord): { event: Event; received_at: number } {
  const { received_at, ...event } = record;
  return { event, received_at };
}

/** One hour of one property: the unit of files, compaction and manifests. */
export interface ArchivePartition {
  property_id: string;
  /** UTC date, `YYYY-MM-DD`. */
  dt: string;
  /** UTC hour, `00`–`23`. */
  hour: string;
}

export const ARCHIVE_EVENTS_PREFIX = "events/";
export const ARCHIVE_PENDING_PREFIX = "_pending/";
export const MANIFEST_FILE = "_manifest.json";

/** The hour an event belongs to, by its own timestamp (UTC). */
export function partitionOf(propertyId: string, eventTimestampMs: number): ArchivePartition {
  const iso = new Date(eventTimestampMs).toISOString();
  return { property_id: propertyId, dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

function partitionPath(p: ArchivePartition): string {
  return `property_id=${p.property_id}/dt=${p.dt}/hour=${p.hour}/`;
}

/** `events/property_id=…/dt=…/hour=…/`: every file of the hour lives under it. */
export function hourPrefix(p: ArchivePartition): string {
  return `${ARCHIVE_EVENTS_PREFIX}${partitionPath(p)}`;
}

export function batchFileKey(p: ArchivePartition, id: string): string {
  return `${hourPrefix(p)}batch-${id}.parquet`;
}

export function compactedFileKey(p: ArchivePartition, id: string): string {
  return `${hourPrefix(p)}compacted-${id}.parquet`;
}

export function manifestKey(p: ArchivePartition): string {
  return `${hourPrefix(p)}${MANIFEST_FILE}`;
}

/** The marker saying the hour has batch files that compaction has not merged yet. */
export function pendingKey(p: ArchivePartition): string {
  return `${ARCHIVE_PENDING_PREFIX}${partitionPath(p).slice(0, -1)}`;
}

const PARTITION_PATH = /^property_id=([^/]+)\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})$/;

/** The partition a pending marker names, or null for a key that is not one. */
export function parsePendingKey(key: string): ArchivePartition | null {
  if (!key.startsWith(ARCHIVE_PENDING_PREFIX)) return null;
  const m = PARTITION_PATH.exec(key.slice(ARCHIVE_PENDING_PREFIX.length));
  if (!m?.[1] || !m[2] || !m[3] || !PROPERTY_ID_PATTERN.test(m[1])) return null;
  return { property_id: m[1], dt: m[2], hour: m[3] };
}

/** Epoch ms at which the partition's hour starts. */
export function hourStart(p: ArchivePartition): number {
  return Date.parse(`${p.dt}T${p.hour}:00:00.000Z`);
}

/** The kind of a file in an hour's prefix, from its name. */
export function fileKind(key: string): "batch" | "compacted" | "manifest" | "other" {
  const name = key.slice(key.lastIndexOf("/") + 1);
  if (name === MANIFEST_FILE) return "manifest";
  if (/^batch-[0-9a-f]+\.parquet$/.test(name)) return "batch";
  if (/^compacted-[0-9a-f]+\.parquet$/.test(name)) return "compacted";
  return "other";
}

/**
 * A file id from the ids of what went into it (queue message ids, or source keys), in any order:
 * the same inputs always give the same id, so a redelivered batch overwrites its own file.
 */
export async function deterministicId(parts: readonly string[]): Promise<string> {
  return (await sha256Hex([...parts].sort().join("\n"))).slice(0, 32);
}

/** One Parquet file as the manifest describes it. */
export const ManifestFileSchema = z.strictObject({
  key: z.string().min(1),
  rows: z.number().int().min(0),
  bytes: z.number().int().min(0),
  /** SHA-256 of the file's bytes. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** SHA-256 of its records in file order (archive-parquet.ts `recordsChecksum`). */
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  min_event_timestamp: z.number().int(),
  max_event_timestamp: z.number().int(),
});
export type ManifestFile = z.infer<typeof ManifestFileSchema>;

/**
 * `_manifest.json` of an hour: the compacted files that hold its events, and the files they were
 * made from (`sources`), which no longer count even if a crash left them behind.
 */
export const ArchiveManifestSchema = z.strictObject({
  version: z.literal(1),
  property_id: z.string().regex(PROPERTY_ID_PATTERN),
  dt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  hour: z.string().regex(/^\d{2}$/),
  files: z.array(ManifestFileSchema),
  /** Total rows over `files`. */
  rows: z.number().int().min(0),
  /** Null while `files` is empty. */
  min_event_timestamp: z.number().int().nullable(),
  max_event_timestamp: z.number().int().nullable(),
  /** SHA-256 over the files' record checksums, in order. */
  checksum: z.string().regex(/^[0-9a-f]{64}$/),
  /** Every file merged into `files` (batch files and earlier compacted files). */
  sources: z.array(z.string()),
  /** Epoch ms of the last compaction step. */
  compacted_at: z.number().int(),
});
export type ArchiveManifest = z.infer<typeof ArchiveManifestSchema>;

/** Builds a manifest from its files, computing the totals and the hour's checksum. */
export async function buildManifest(
  partition: ArchivePartition,
  files: readonly ManifestFile[],
  sources: readonly string[],
  compactedAt: number,
): Promise<ArchiveManifest> {
  const rows = files.reduce((n, f) => n + f.rows, 0);
  const withRows = files.filter((f) => f.rows > 0);
  return {
    version: 1,
    ...partition,
    files: [...files],
    rows,
    min_event_timestamp: withRows.length ? Math.min(...withRows.map((f) => f.min_event_timestamp)) : null,
    max_event_timestamp: withRows.length ? Math.max(...withRows.map((f) => f.max_event_timestamp)) : null,
    checksum: await sha256Hex(files.map((f) => f.checksum).join("\n")),
    sources: [...new Set(sources)].sort(),
    compacted_at: compactedAt,
  };
}

/**
 * The files that hold an hour's events, given the keys listed under its prefix and its manifest:
 * the manifest's files, plus batch files it does not name as sources. Compacted files the manifest
 * does not list are leftovers of an interrupted compaction and never count. Replay reads these (and
 * dedupes by event_id, as the live sinks do).
 */
export function liveFiles(listedKeys: readonly string[], manifest: ArchiveManifest | null): string[] {
  const sources = new Set(manifest?.sources ?? []);
  const compacted = manifest?.files.map((f) => f.key) ?? [];
  const batches = listedKeys.filter((k) => fileKind(k) === "batch" && !sources.has(k)).sort();
  return [...compacted, ...batches];
}

/** Days after which archived objects move to cold storage (our spec). */
export const COLD_STORAGE_AFTER_DAYS = 90;

/**
 * The bucket lifecycle that README "Event archive" documents, in S3's LifecycleConfiguration shape
 * (R2 accepts the same through its S3 API): to cold storage after 90 days, deleted after the
 * compliance period. `coldClass` is `STANDARD_IA` on R2 (Infrequent Access), e.g. `GLACIER_IR` on S3.
 */
export function archiveLifecycleRules(retentionDays: number, coldClass = "STANDARD_IA") {
  const rules: {
    ID: string;
    Status: "Enabled";
    Filter: { Prefix: string };
    Transitions?: { Days: number; StorageClass: string }[];
    Expiration?: { Days: number };
  }[] = [];
  if (retentionDays > COLD_STORAGE_AFTER_DAYS)
    rules.push({
      ID: "tally-archive-cold",
      Status: "Enabled",
      Filter: { Prefix: ARCHIVE_EVENTS_PREFIX },
      Transitions: [{ Days: COLD_STORAGE_AFTER_DAYS, StorageClass: coldClass }],
    });
  rules.push({
    ID: "tally-archive-retention",
    Status: "Enabled",
    Filter: { Prefix: ARCHIVE_EVENTS_PREFIX },
    Expiration: { Days: retentionDays },
  });
  return { Rules: rules };
}
