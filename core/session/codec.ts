/**
 * How a visitor's state is stored in the SessionDO's SQLite row. Compact on purpose (our spec
 * allows 500 bytes per active session): the session as a positional array in SessionSchema's field
 * order (no repeated key names; fields added later are appended, so an older, shorter array still
 * decodes), and the ring of recent event-id hashes as base64 (4 bytes each instead of ~11
 * characters of JSON numbers).
 */
import { type Session, SessionSchema, type VisitorState } from "./session.ts";

const FIELDS = Object.keys(SessionSchema.shape) as (keyof Session)[];

function packHashes(hashes: readonly number[]): string {
  const bytes = new Uint8Array(hashes.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < hashes.length; i++) view.setUint32(i * 4, (hashes[i] ?? 0) >>> 0);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function unpackHashes(text: string): number[] {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const out: number[] = [];
  for (let i = 0; i + 3 < bytes.length; i += 4) out.push(view.getUint32(i));
  return out;
}

export function encodeVisitor(state: VisitorState): string {
  const session = state.session ? FIELDS.map((f) => state.session?.[f]) : null;
  return JSON.stringify([session, state.previous_session_id, packHashes(state.recent)]);
}

export function decodeVisitor(text: string): VisitorState {
  const [values, previous, recent] = JSON.parse(text) as [unknown[] | null, string, string];
  // A state stored before later fields were added (all strings) is shorter: those become "".
  const session = values
    ? (Object.fromEntries(FIELDS.map((f, i) => [f, i < values.length ? values[i] : ""])) as Session)
    : null;
  return { session, previous_session_id: previous, recent: unpackHashes(recent) };
}
