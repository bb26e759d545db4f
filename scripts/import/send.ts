/**
 * How `npm run import` sends: items gathered into chunks of at most N lines (and 8 MiB), each chunk
 * POSTed to /api/v1/import and retried on 5xx, 429 or a lost connection with backoff that honours
 * Retry-After (safe: every line carries an event_id, so a repeat is recognised downstream), and the
 * server's chunk-relative line numbers mapped back to the file's.
 */
import { MAX_IMPORT_BYTES } from "../../core/ingest/import-limits.ts";
import type { SourceItem } from "./source.ts";

/**
 * A chunk's body is bounded in UTF-8 bytes too, as the server counts it, whatever `--batch-lines`
 * says: 50,000 lines of up to 32,768 characters (96 KiB of UTF-8) would pass the server's
 * MAX_IMPORT_BYTES, a 413 that stops the import. An eighth of it keeps one request's work small.
 */
export const MAX_CHUNK_BYTES = MAX_IMPORT_BYTES / 8;

export interface Chunk {
  /** Our NDJSON lines, in file order. */
  events: string[];
  /** `lines[k]` is the file line of `events[k]`, i.e. of the server's line k + 1. */
  lines: number[];
  /** Rejections and skips met since the previous chunk, so counts stay in file order. */
  local: Exclude<SourceItem, { kind: "event" }>[];
}

/**
 * Groups items into chunks of at most `maxLines` events and a body (`chunkBody`) of at most
 * `maxBytes`, unless one event alone is larger; the last chunk may hold no event.
 */
export async function* chunks(
  items: AsyncIterable<SourceItem>,
  maxLines: number,
  maxBytes = MAX_CHUNK_BYTES,
): AsyncGenerator<Chunk> {
  let chunk: Chunk = { events: [], lines: [], local: [] };
  let bytes = 0;
  for await (const item of items) {
    if (item.kind !== "event") {
      chunk.local.push(item);
      continue;
    }
    const size = Buffer.byteLength(item.json) + 1; // and its "\n"
    if (chunk.events.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = { events: [], lines: [], local: [] };
      bytes = 0;
    }
    chunk.events.push(item.json);
    chunk.lines.push(item.line);
    bytes += size;
    if (chunk.events.length >= maxLines) {
      yield chunk;
      chunk = { events: [], lines: [], local: [] };
      bytes = 0;
    }
  }
  if (chunk.events.length > 0 || chunk.local.length > 0) yield chunk;
}

/** What POST /api/v1/import receives for a chunk: its events as NDJSON. */
export const chunkBody = (chunk: Chunk) => `${chunk.events.join("\n")}\n`;

export interface LineError {
  line: number;
  code: string;
  message: string;
}

/** The server numbers lines within the chunk; these are the file's. Messages name the line too ("line 3.page_url: …"). */
export function toFileLines(errors: readonly LineError[], lines: readonly number[]): LineError[] {
  return errors.map((e) => {
    const line = lines[e.line - 1] ?? 0;
    const message = e.message.replace(/\bline (\d+)\b/g, (text, n: string) =>
      Number(n) === e.line ? `line ${line}` : text,
    );
    return { line, code: e.code, message };
  });
}

/** Seconds (or an HTTP date) from Retry-After, in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** 1 s doubling to 60 s; a server's Retry-After wins, up to 5 minutes. */
export function backoffMs(attempt: number, retryAfter: number | undefined): number {
  if (retryAfter !== undefined) return Math.min(retryAfter, 300_000);
  return Math.min(1000 * 2 ** (attempt - 1), 60_000);
}

/** A failure retrying cannot fix (a 4xx other than 429, a malformed answer, or retries spent). */
export class ImportStopped extends Error {}

export interface ImportAnswer {
  accepted: number;
  rejected: number;
  errors: LineError[];
}

export interface SendOptions {
  url: string;
  propertyId: string;
  key: string;
  maxAttempts: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRetry?: (attempt: number, waitMs: number, why: string) => void;
}

function isAnswer(v: unknown): v is ImportAnswer {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.accepted === "number" && typeof o.rejected === "number" && Array.isArray(o.errors);
}

async function describe(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return `${res.status} ${body.error.code ?? ""}: ${body.error.message}`;
  } catch {}
  return `${res.status} ${text.slice(0, 200)}`;
}

/** POSTs one chunk until it is answered; errors come back with the file's line numbers. */
export async function sendChunk(chunk: Chunk, options: SendOptions): Promise<ImportAnswer> {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const endpoint = new URL("/api/v1/import", options.url);
  endpoint.searchParams.set("property", options.propertyId);
  const body = chunkBody(chunk);
  for (let attempt = 1; ; attempt++) {
    let why: string;
    let retryAfter: number | undefined;
    try {
      const res = await doFetch(endpoint, {
        method: "POST",
        headers: { Authorization: `Bearer ${options.key}`, "Content-Type": "application/x-ndjson" },
        body,
      });
      if (res.ok) {
        const answer: unknown = await res.json().catch(() => undefined);
        if (!isAnswer(answer)) throw new ImportStopped(`the server's answer is not {accepted, rejected, errors}`);
        return { ...answer, errors: toFileLines(answer.errors, chunk.lines) };
      }
      why = await describe(res);
      if (res.status !== 429 && res.status < 500) throw new ImportStopped(`the server refused the import: ${why}`);
      retryAfter = retryAfterMs(res.headers.get("retry-after"), now());
    } catch (error) {
      if (error instanceof ImportStopped) throw error;
      why = `no answer (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})`;
    }
    if (attempt >= options.maxAttempts)
      throw new ImportStopped(
        `gave up on lines ${chunk.lines[0]}-${chunk.lines.at(-1)} after ${attempt} attempts: ${why}`,
      );
    const wait = backoffMs(attempt, retryAfter);
    options.onRetry?.(attempt, wait, why);
    await sleep(wait);
  }
}
