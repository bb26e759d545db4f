/**
 * Compressed queue messages (issue #14): the ingest stage packs up to MAX_PACKED_BYTES of event
 * JSON into one message and sends it ZSTD-compressed as bytes, so one billed 64 KB operation
 * carries several times the events plain JSON would. The consumer reads both kinds: text from
 * the edge's own packer (and older messages), bytes from the ingest stage.
 */
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { type EventsMessage, envelope, utf8Length } from "../core/ingest/queue-message.ts";

/** Below the queue's 128 KB message limit with room for the runtime's framing. */
export const MAX_COMPRESSED_BYTES = 120_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A message text as the bytes the queue carries. */
export function compressMessage(text: string): Uint8Array {
  const bytes = encoder.encode(text);
  return zstdCompressSync(bytes, { chunkSize: Math.max(64, bytes.byteLength + 64) });
}

/**
 * A message text as one or more compressed bodies of ≤ `limit` bytes: event JSON usually shrinks
 * 6–20×, but data that does not (random custom dimensions, say) must not make a send fail for
 * every request in it, so such a message is halved until each part fits.
 */
export function compressedBodies(text: string, limit = MAX_COMPRESSED_BYTES): Uint8Array[] {
  const body = compressMessage(text);
  if (body.byteLength <= limit) return [body];
  const message = JSON.parse(text) as EventsMessage;
  if (message.events.length < 2) return [body];
  const half = Math.ceil(message.events.length / 2);
  return [message.events.slice(0, half), message.events.slice(half)].flatMap((events) =>
    compressedBodies(envelope(message.received_at, JSON.stringify(events)), limit),
  );
}

/** sendBatch takes ≤ 100 messages and ≤ 256 KB in all; this leaves room for the runtime's framing. */
export const MAX_SEND_BATCH_BYTES = 240_000;
const MAX_SEND_BATCH_MESSAGES = 100;

/** Bodies grouped into sendBatch calls within the batch limits, in order. */
export function sendGroups(bodies: readonly Uint8Array[], maxBytes = MAX_SEND_BATCH_BYTES): Uint8Array[][] {
  const groups: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let size = 0;
  for (const body of bodies) {
    if (current.length > 0 && (size + body.byteLength > maxBytes || current.length >= MAX_SEND_BATCH_MESSAGES)) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(body);
    size += body.byteLength;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

/**
 * A delivered body as the consumers parse it: compressed bytes become their text (undefined when
 * they do not decompress, which the schema then refuses); anything else is as sent.
 */
export function messageBody(body: unknown): unknown {
  const bytes =
    body instanceof ArrayBuffer
      ? new Uint8Array(body)
      : ArrayBuffer.isView(body)
        ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
        : null;
  if (!bytes) return body;
  try {
    return decoder.decode(zstdDecompressSync(bytes));
  } catch {
    return undefined;
  }
}

/** The bytes a body is billed for (text as UTF-8, bytes as they are). */
export function bodyBytes(body: unknown): number {
  if (typeof body === "string") return utf8Length(body);
  if (body instanceof ArrayBuffer) return body.byteLength;
  if (ArrayBuffer.isView(body)) return body.byteLength;
  return utf8Length(JSON.stringify(body));
}
