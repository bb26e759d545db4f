/**
 * What `npm run import` reads: a file's bytes → physical lines (never the whole file; UTF-8 checked
 * line by line) → records of its format (NDJSON, CSV, a GA4 BigQuery export) → lines of our import
 * NDJSON, each with a deterministic event_id, or a local rejection naming the file line.
 */

import { EventInputSchema } from "../../core/event.ts";
import { MAX_EVENT_BYTES } from "../../core/ingest/collect-batch.ts";
import { ImportGeoSchema } from "../../core/ingest/import-line.ts";
import { createCsvParser } from "./csv.ts";
import { mapGa4BigQueryRow, stableEventId } from "./ga4-bigquery.ts";
import type { Ga4Drop } from "./ga4-row.ts";

export const FORMATS = ["ndjson", "csv", "ga4-bigquery"] as const;
export type Format = (typeof FORMATS)[number];

/** A physical line longer than this is refused without being held. */
export const MAX_PHYSICAL_LINE_BYTES = 1024 * 1024;

export type PhysicalLine = { line: number; text: string } | { line: number; problem: string };

export type SourceItem =
  | { kind: "event"; line: number; json: string }
  | { kind: "rejected"; line: number; code: string; message: string }
  | { kind: "skipped"; line: number; reason: string };

/** Splits bytes at "\n" (a trailing "\r" is dropped) and decodes each line as strict UTF-8. */
export async function* physicalLines(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes = MAX_PHYSICAL_LINE_BYTES,
): AsyncGenerator<PhysicalLine> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  const finish = (last: Uint8Array): PhysicalLine => {
    lineNo++;
    const size = pendingBytes + last.length;
    const parts = [...pending, last];
    pending = [];
    pendingBytes = 0;
    if (size > maxBytes) return { line: lineNo, problem: `is longer than ${maxBytes} bytes` };
    let bytes = parts.length === 1 ? last : Buffer.concat(parts);
    if (bytes[bytes.length - 1] === 13) bytes = bytes.subarray(0, bytes.length - 1);
    try {
      return { line: lineNo, text: decoder.decode(bytes) };
    } catch {
      return { line: lineNo, problem: "is not valid UTF-8" };
    }
  };
  for await (const chunk of chunks) {
    let pos = 0;
    for (let nl = chunk.indexOf(10, pos); nl >= 0; nl = chunk.indexOf(10, pos)) {
      yield finish(chunk.subarray(pos, nl));
      pos = nl + 1;
    }
    const rest = chunk.subarray(pos);
    // Past the bound, only the count is kept: a line with no break cannot grow memory.
    pendingBytes += rest.length;
    if (pendingBytes <= maxBytes) pending.push(rest);
    else pending = [];
  }
  if (pendingBytes > 0) yield finish(new Uint8Array(0));
}

/** Everything a conversion needs to know; `dropped` gathers what the GA4 mapping left out. */
export interface SourceContext {
  /** The file's base name: part of every derived event_id. */
  fileKey: string;
  ga4Skip: ReadonlySet<string>;
  dropped: Map<Ga4Drop, number>;
}

/** Fields an import line accepts (the event contract plus geography), i.e. the CSV columns with a fixed name. */
export const IMPORT_FIELDS: readonly string[] = [
  ...Object.keys(EventInputSchema.shape).filter((k) => k !== "custom_dimensions" && k !== "custom_metrics"),
  ...Object.keys(ImportGeoSchema.shape),
];

export type CsvColumn =
  | { kind: "field"; name: string }
  | { kind: "dimension"; key: string }
  | { kind: "metric"; key: string };

/** Reads a CSV header: our field names, `custom_dimensions.<key>` and `custom_metrics.<key>`; anything else is an error. */
export function csvColumns(header: readonly string[]): CsvColumn[] | { error: string } {
  const seen = new Set<string>();
  const columns: CsvColumn[] = [];
  for (const raw of header) {
    const name = raw.trim();
    if (seen.has(name)) return { error: `column ${JSON.stringify(name)} appears twice` };
    seen.add(name);
    if (name.startsWith("custom_dimensions.")) columns.push({ kind: "dimension", key: name.slice(18) });
    else if (name.startsWith("custom_metrics.")) columns.push({ kind: "metric", key: name.slice(15) });
    else if (IMPORT_FIELDS.includes(name)) columns.push({ kind: "field", name });
    else
      return {
        error: `column ${JSON.stringify(name)} is not an import field; columns are ${IMPORT_FIELDS.join(", ")}, custom_dimensions.<key> and custom_metrics.<key>`,
      };
  }
  if (!seen.has("client_id"))
    return { error: "a client_id column is required (import has no request to derive one from)" };
  return columns;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Metric cells are numbers (true/false as 1/0); anything else stays text, for the server to name the bad field. */
function metricCell(cell: string): number | string {
  const t = cell.trim();
  if (NUMBER.test(t)) return Number(t);
  if (t === "true" || t === "false") return t === "true" ? 1 : 0;
  return cell;
}

/** One CSV record as an import line object: empty cells are absent; event_timestamp digits become a number. */
export function csvRecordToEvent(columns: readonly CsvColumn[], fields: readonly string[]): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  const dimensions: Record<string, string> = {};
  const metrics: Record<string, number | string> = {};
  columns.forEach((column, i) => {
    const cell = fields[i] ?? "";
    if (cell === "") return;
    if (column.kind === "dimension") dimensions[column.key] = cell;
    else if (column.kind === "metric") metrics[column.key] = metricCell(cell);
    else event[column.name] = column.name === "event_timestamp" && /^\d+$/.test(cell) ? Number(cell) : cell;
  });
  if (Object.keys(dimensions).length > 0) event.custom_dimensions = dimensions;
  if (Object.keys(metrics).length > 0) event.custom_metrics = metrics;
  return event;
}

function tooLarge(line: number, json: string): SourceItem | undefined {
  return json.length > MAX_EVENT_BYTES
    ? { kind: "rejected", line, code: "event_too_large", message: `line ${line}: exceeds ${MAX_EVENT_BYTES} bytes` }
    : undefined;
}

/** An event object without an id gets one derived from the file, the line and its text, so a re-run repeats it. */
function withId(
  event: Record<string, unknown>,
  ctx: SourceContext,
  line: number,
  text: string,
): Record<string, unknown> {
  return "event_id" in event ? event : { event_id: stableEventId("imp-", [ctx.fileKey, String(line), text]), ...event };
}

/** One NDJSON line; what is not a JSON object goes as it is, for the server to judge and name. */
export function ndjsonItem(text: string, line: number, ctx: SourceContext): SourceItem | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return tooLarge(line, trimmed) ?? { kind: "event", line, json: trimmed };
  }
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const json = isObject ? JSON.stringify(withId(value as Record<string, unknown>, ctx, line, trimmed)) : trimmed;
  return tooLarge(line, json) ?? { kind: "event", line, json };
}

/** One row of a GA4 BigQuery export, through scripts/import/ga4-bigquery.ts. */
export function ga4Item(text: string, line: number, ctx: SourceContext): SourceItem | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { kind: "rejected", line, code: "invalid_json", message: `line ${line}: is not valid JSON` };
  }
  const mapped = mapGa4BigQueryRow(value, ctx.ga4Skip);
  if (mapped.kind === "skipped") return { kind: "skipped", line, reason: mapped.event_name };
  if (mapped.kind === "rejected")
    return { kind: "rejected", line, code: "ga4_unmappable", message: `line ${line}: ${mapped.reason}` };
  for (const [reason, n] of Object.entries(mapped.dropped) as [Ga4Drop, number][])
    ctx.dropped.set(reason, (ctx.dropped.get(reason) ?? 0) + n);
  const json = JSON.stringify(mapped.line);
  return tooLarge(line, json) ?? { kind: "event", line, json };
}

/** The file cannot be read as its format at all (a CSV header naming no import field, say). */
export class SourceError extends Error {}

/** A whole file's items, in order. A bad CSV header throws SourceError: every row would fail alike. */
export async function* sourceItems(
  lines: AsyncIterable<PhysicalLine>,
  format: Format,
  ctx: SourceContext,
): AsyncGenerator<SourceItem> {
  const csv = createCsvParser();
  let columns: CsvColumn[] | undefined;
  const fromCsv = (item: ReturnType<typeof csv.line>): SourceItem | undefined => {
    if (!item) return undefined;
    if (item.kind === "error")
      return { kind: "rejected", line: item.line, code: "invalid_csv", message: `line ${item.line}: ${item.message}` };
    if (!columns) {
      const found = csvColumns(item.fields);
      if ("error" in found) throw new SourceError(`CSV header (line ${item.line}): ${found.error}`);
      columns = found;
      return undefined;
    }
    if (item.fields.length !== columns.length) {
      const message = `line ${item.line}: has ${item.fields.length} fields; the header has ${columns.length}`;
      return { kind: "rejected", line: item.line, code: "invalid_csv", message };
    }
    const event = csvRecordToEvent(columns, item.fields);
    const json = JSON.stringify(withId(event, ctx, item.line, JSON.stringify(item.fields)));
    return tooLarge(item.line, json) ?? { kind: "event", line: item.line, json };
  };
  for await (const physical of lines) {
    let item: SourceItem | undefined;
    if ("problem" in physical)
      item = {
        kind: "rejected",
        line: physical.line,
        code: "invalid_line",
        message: `line ${physical.line}: ${physical.problem}`,
      };
    else if (format === "csv") item = fromCsv(csv.line(physical.text, physical.line));
    else if (format === "ndjson") item = ndjsonItem(physical.text, physical.line, ctx);
    else item = ga4Item(physical.text, physical.line, ctx);
    if (item) yield item;
  }
  if (format === "csv") {
    const last = fromCsv(csv.end());
    if (last) yield last;
  }
}
