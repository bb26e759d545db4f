/**
 * How a session actor persists its visitors in a few rows instead of one row per visitor (issue
 * #14: SQLite rows written are billed one by one). The actor keeps every visitor in memory; each
 * call that changes visitors writes ONE delta row holding all of them, and every MAX_DELTAS deltas
 * it writes a snapshot (a few chunk rows) that starts a new generation. Rows are overwritten in
 * place (fixed slots, `INSERT OR REPLACE`), so nothing is ever deleted, and deletes are not billed
 * as extra writes: a row of an older generation is simply ignored when the log is read.
 * Pure: the actor (durable-objects/visitor-store.ts) does the SQLite I/O.
 */
import { decodeVisitor, encodeVisitor } from "./codec.ts";
import type { VisitorState } from "./session.ts";

/** A visitor as the actor keeps it: its state and when it was last written (processing time). */
export interface StoredVisitor {
  state: VisitorState;
  last_event_at: number;
}

/** One row of the log: `s<i>` snapshot chunk i, `d<j>` delta slot j; `gen` says which snapshot it belongs to. */
export interface LogRow {
  slot: string;
  gen: number;
  seq: number;
  body: string;
}

/** Deltas per generation: then a snapshot. Bounds both the rows read on wake and the slots kept. */
export const MAX_DELTAS = 64;
/** A snapshot chunk's body stays under this many characters (Durable Object SQLite rows hold ≤ 2 MB). */
export const MAX_CHUNK_CHARS = 1_000_000;

/** Where the log stands: the generation in force, the last sequence number, and deltas since the snapshot. */
export interface LogHead {
  gen: number;
  seq: number;
  deltas: number;
}

type Entry = [clientId: string, state: string | null, lastEventAt: number];

/** One entry as JSON: bodies are these joined, so a chunk's size is known exactly as it is built. */
function entryJson(id: string, v: StoredVisitor | null): string {
  const entry: Entry = v ? [id, encodeVisitor(v.state), v.last_event_at] : [id, null, 0];
  return JSON.stringify(entry);
}

/** A delta's or a chunk's body; `null` forgets a visitor. */
export function encodeEntries(entries: Iterable<readonly [string, StoredVisitor | null]>): string {
  const parts: string[] = [];
  for (const [id, v] of entries) parts.push(entryJson(id, v));
  return `[${parts.join(",")}]`;
}

function applyBody(visitors: Map<string, StoredVisitor>, body: string): void {
  for (const [id, state, last] of JSON.parse(body) as Entry[]) {
    if (state === null) visitors.delete(id);
    else visitors.set(id, { state: decodeVisitor(state), last_event_at: last });
  }
}

/**
 * The visitors a log holds: the newest generation's snapshot chunks, then its deltas in sequence
 * order. Rows of older generations (overwritten slots not yet reused) are ignored.
 */
export function readLog(rows: readonly LogRow[]): { visitors: Map<string, StoredVisitor>; head: LogHead } {
  const visitors = new Map<string, StoredVisitor>();
  const gen = rows.reduce((g, r) => (r.slot.startsWith("s") ? Math.max(g, r.gen) : g), 0);
  const current = rows.filter((r) => r.gen === gen);
  const chunks = current.filter((r) => r.slot.startsWith("s"));
  const deltas = current.filter((r) => r.slot.startsWith("d")).sort((a, b) => a.seq - b.seq);
  for (const chunk of chunks) applyBody(visitors, chunk.body);
  for (const delta of deltas) applyBody(visitors, delta.body);
  const seq = Math.max(0, ...current.map((r) => r.seq));
  return { visitors, head: { gen, seq, deltas: deltas.length } };
}

/** The row that records these changes after `head`, and the head after it. */
export function deltaRow(
  head: LogHead,
  changes: Iterable<readonly [string, StoredVisitor | null]>,
): { row: LogRow; head: LogHead } {
  const seq = head.seq + 1;
  const row = { slot: `d${head.deltas}`, gen: head.gen, seq, body: encodeEntries(changes) };
  return { row, head: { gen: head.gen, seq, deltas: head.deltas + 1 } };
}

/** Whether the next change must first start a new generation (a full snapshot). */
export function needsSnapshot(head: LogHead): boolean {
  return head.deltas >= MAX_DELTAS;
}

/** A new generation holding every visitor, in chunks under MAX_CHUNK_CHARS; its deltas start empty. */
export function snapshotRows(
  visitors: ReadonlyMap<string, StoredVisitor>,
  head: LogHead,
): { rows: LogRow[]; head: LogHead } {
  const gen = head.gen + 1;
  const seq = head.seq + 1;
  const rows: LogRow[] = [];
  let parts: string[] = [];
  let chars = 2;
  const push = () => {
    rows.push({ slot: `s${rows.length}`, gen, seq, body: `[${parts.join(",")}]` });
    parts = [];
    chars = 2;
  };
  for (const [id, v] of visitors) {
    const json = entryJson(id, v);
    if (chars + json.length + 1 > MAX_CHUNK_CHARS && parts.length > 0) push();
    parts.push(json);
    chars += json.length + 1;
  }
  if (parts.length > 0 || rows.length === 0) push();
  return { rows, head: { gen, seq, deltas: 0 } };
}
