/**
 * Archive records ⇄ Parquet bytes (hyparquet-writer / hyparquet), ZSTD-compressed through an
 * injected codec (node:zlib in both workerd and Node), and the checksums that verify a file.
 *
 * Physical types, chosen for what ClickHouse's Parquet reader and Redshift (COPY, Spectrum) read
 * without conversion: strings are BYTE_ARRAY/STRING; `event_timestamp`, `received_at` are
 * INT64 TIMESTAMP(MILLIS, UTC); booleans BOOLEAN; `asn` INT64 (an ASN can exceed INT32); the two
 * custom maps are MAP<STRING, STRING> and MAP<STRING, DOUBLE> (ClickHouse: Map(String, …);
 * Spectrum: map<string,…>). Optional event fields are nullable; the rest REQUIRED.
 */
import { parquetMetadata, parquetRead } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { sha256Hex } from "../hash.ts";
import { ARCHIVE_COLUMNS, type ArchiveColumn, type ArchiveColumnKind, type ArchiveRecord } from "./layout.ts";

/** A byte codec for Parquet pages; the archive uses ZSTD (platform/archive/zstd.ts). */
export interface ArchiveCodec {
  name: "ZSTD";
  compress(bytes: Uint8Array): Uint8Array;
  decompress(bytes: Uint8Array, outputLength: number): Uint8Array;
}

type WriteOptions = Parameters<typeof parquetWriteBuffer>[0];
type SchemaElement = NonNullable<WriteOptions["schema"]>[number];

const COLUMN_NAMES = Object.keys(ARCHIVE_COLUMNS) as ArchiveColumn[];
const UTF8 = { type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" } } as const;

function columnSchema(name: string, kind: ArchiveColumnKind, optional: boolean): SchemaElement[] {
  const repetition_type = optional ? "OPTIONAL" : "REQUIRED";
  switch (kind) {
    case "string":
      return [{ name, repetition_type, ...UTF8 }];
    case "timestamp_ms":
      return [
        {
          name,
          repetition_type,
          type: "INT64",
          converted_type: "TIMESTAMP_MILLIS",
          logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" },
        },
      ];
    case "boolean":
      return [{ name, repetition_type, type: "BOOLEAN" }];
    case "int64":
      return [{ name, repetition_type, type: "INT64" }];
    case "map_string":
    case "map_double":
      return [
        { name, repetition_type, converted_type: "MAP", logical_type: { type: "MAP" }, num_children: 1 },
        { name: "key_value", repetition_type: "REPEATED", num_children: 2 },
        { name: "key", repetition_type: "REQUIRED", ...UTF8 },
        kind === "map_string"
          ? { name: "value", repetition_type: "REQUIRED", ...UTF8 }
          : { name: "value", repetition_type: "REQUIRED", type: "DOUBLE" },
      ];
  }
}

/** The archive's Parquet schema (flattened, as Parquet's footer stores it). */
export const ARCHIVE_PARQUET_SCHEMA: SchemaElement[] = [
  { name: "schema", num_children: COLUMN_NAMES.length },
  ...COLUMN_NAMES.flatMap((name) => columnSchema(name, ARCHIVE_COLUMNS[name].kind, ARCHIVE_COLUMNS[name].optional)),
];

/** Written into each file's key-value metadata, so a reader can tell archive versions apart. */
export const ARCHIVE_FORMAT_VERSION = "1";

/**
 * Files with fewer rows than this are written UNCOMPRESSED: a ZSTD frame per page costs ~25 µs of
 * CPU and its header outweighs the saving on a handful of values, so tiny batch files (one property's
 * few events in a batch; compaction rewrites them within the hour) are smaller and ~3× cheaper raw.
 * bench/archive.ts measures both sides.
 */
export const COMPRESS_FROM_ROWS = 64;

/**
 * Archive rows as columns — one array per column, all of one length, absent values null,
 * timestamps and `asn` as numbers, maps as plain objects. Compaction works on this form: no object
 * per row is ever built, which keeps a 50,000-row step within a Worker's memory.
 */
export type ArchiveColumns = Record<ArchiveColumn, unknown[]>;

/** Records → columns. */
export function recordsToColumns(records: readonly ArchiveRecord[]): ArchiveColumns {
  const columns = {} as ArchiveColumns;
  for (const name of COLUMN_NAMES) {
    const values = new Array<unknown>(records.length);
    for (let i = 0; i < records.length; i++) values[i] = (records[i] as Record<string, unknown>)[name] ?? null;
    columns[name] = values;
  }
  return columns;
}

/** Columns → records: absent (null) optional fields are left out, as the event schema has them. */
export function columnsToRecords(columns: ArchiveColumns, rows: number): ArchiveRecord[] {
  const records: Record<string, unknown>[] = Array.from({ length: rows }, () => ({}));
  for (const name of COLUMN_NAMES) {
    const values = columns[name];
    for (let i = 0; i < rows; i++) {
      const value = values[i];
      if (value !== null && value !== undefined) (records[i] as Record<string, unknown>)[name] = value;
    }
  }
  return records as ArchiveRecord[];
}

/** The rows at `indices`, in that order. */
export function selectRows(columns: ArchiveColumns, indices: readonly number[]): ArchiveColumns {
  const out = {} as ArchiveColumns;
  for (const name of COLUMN_NAMES) {
    const values = columns[name];
    out[name] = indices.map((i) => values[i]);
  }
  return out;
}

/** Several column sets end to end. */
export function concatColumns(parts: readonly ArchiveColumns[]): ArchiveColumns {
  const out = {} as ArchiveColumns;
  for (const name of COLUMN_NAMES) out[name] = ([] as unknown[]).concat(...parts.map((p) => p[name]));
  return out;
}

/**
 * Encodes columns as one Parquet file: one row group, column statistics (readers prune by min/max),
 * ZSTD pages from COMPRESS_FROM_ROWS rows on. Rows are written in the order given.
 */
export interface EncodeOptions {
  /** Extra key-value metadata for the footer. */
  metadata?: Record<string, string>;
  /** Compress from this many rows on (default COMPRESS_FROM_ROWS). */
  compressFromRows?: number;
}

export function encodeArchiveColumns(
  columns: ArchiveColumns,
  rows: number,
  codec: ArchiveCodec,
  { metadata = {}, compressFromRows = COMPRESS_FROM_ROWS }: EncodeOptions = {},
): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: COLUMN_NAMES.map((name) => ({
      name,
      data:
        ARCHIVE_COLUMNS[name].kind === "int64"
          ? columns[name].map((v) => (v === null ? null : BigInt(v as number)))
          : columns[name],
      // No page indexes: every column is one page of one row group, so they would only add bytes.
      offsetIndex: false,
    })),
    schema: ARCHIVE_PARQUET_SCHEMA,
    codec: rows >= compressFromRows ? codec.name : "UNCOMPRESSED",
    compressors: { [codec.name]: (bytes: Uint8Array) => codec.compress(bytes) },
    rowGroupSize: Math.max(rows, 1),
    kvMetadata: [
      { key: "tally.archive.version", value: ARCHIVE_FORMAT_VERSION },
      ...Object.entries(metadata).map(([key, value]) => ({ key, value })),
    ],
    createdBy: "tally archive (hyparquet-writer)",
  } as WriteOptions);
  return new Uint8Array(buffer);
}

/** Encodes records as one Parquet file, in the order given. */
export function encodeArchiveFile(
  records: readonly ArchiveRecord[],
  codec: ArchiveCodec,
  options: EncodeOptions = {},
): Uint8Array {
  return encodeArchiveColumns(recordsToColumns(records), records.length, codec, options);
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer)
    return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/** Rows in a file, from its footer alone. */
export function archiveFileRows(bytes: Uint8Array): number {
  return Number(parquetMetadata(toArrayBuffer(bytes)).num_rows);
}

/**
 * UTF-8 that keeps a leading U+FEFF: hyparquet's default TextDecoder strips it, so an event_type
 * or client_id of "\ufeff" came back from the archive as "" — an invalid event in the truth, and
 * every BOM-led label changed on replay (found by the fuzz suite).
 */
const bomKeepingUtf8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const keepingBom = (bytes: Uint8Array | undefined) => bytes && bomKeepingUtf8.decode(bytes);

/** Decodes a file into columns (see ArchiveColumns). */
export async function decodeArchiveColumns(
  bytes: Uint8Array,
  codec: ArchiveCodec,
): Promise<{ rows: number; columns: ArchiveColumns }> {
  const file = toArrayBuffer(bytes);
  const metadata = parquetMetadata(file);
  const rows = Number(metadata.num_rows);
  const columns = {} as ArchiveColumns;
  for (const name of COLUMN_NAMES) columns[name] = new Array<unknown>(rows).fill(null);
  await parquetRead({
    file,
    metadata,
    columns: COLUMN_NAMES,
    compressors: { [codec.name]: (input: Uint8Array, length: number) => codec.decompress(input, length) },
    parsers: { timestampFromMilliseconds: (ms: bigint) => Number(ms), stringFromBytes: keepingBom },
    onChunk: ({ columnName, columnData, rowStart }) => {
      const target = columns[columnName as ArchiveColumn];
      if (!target) return;
      const isInt = ARCHIVE_COLUMNS[columnName as ArchiveColumn].kind === "int64";
      for (let i = 0; i < columnData.length; i++) {
        const value = columnData[i] ?? null;
        target[rowStart + i] = isInt && value !== null ? Number(value) : value;
      }
    },
  });
  return { rows, columns };
}

/** Decodes a file back into records: absent optional fields stay absent, timestamps are epoch ms. */
export async function decodeArchiveFile(bytes: Uint8Array, codec: ArchiveCodec): Promise<ArchiveRecord[]> {
  const { rows, columns } = await decodeArchiveColumns(bytes, codec);
  return columnsToRecords(columns, rows);
}

/**
 * A checksum of rows' content, independent of Parquet encoding: SHA-256 over each column's name
 * and its values as JSON (null for absent, maps in stored key order), column after column.
 */
export async function columnsChecksum(columns: ArchiveColumns): Promise<string> {
  return sha256Hex(COLUMN_NAMES.map((name) => `${name}\n${JSON.stringify(columns[name])}`).join("\n"));
}

/** The same checksum, over records. */
export async function recordsChecksum(records: readonly ArchiveRecord[]): Promise<string> {
  return columnsChecksum(recordsToColumns(records));
}

/** Archive order: by event time, then event id — compresses well and gives readers tight min/max. */
export function compareRecords(a: ArchiveRecord, b: ArchiveRecord): number {
  return a.event_timestamp - b.event_timestamp || (a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0);
}
