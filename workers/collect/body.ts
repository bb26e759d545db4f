/**
 * Reads a bounded request body: `Content-Encoding: gzip` is inflated as a stream and cut off past
 * the limit (a gzip bomb costs 256 KB of work, not its expansion); bad UTF-8 and bad JSON are 4xx.
 */
import { AppError } from "../../core/errors.ts";

/** Our spec's request bound (decompressed). */
export const MAX_BODY_BYTES = 256 * 1024;

function tooLarge(limit: number): AppError {
  return new AppError("payload_too_large", 413, `body: exceeds ${limit} bytes (after decompression)`);
}

/** Reads at most `limit` bytes from a stream, failing with 413 beyond it. */
async function readBounded(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) {
        await reader.cancel();
        throw tooLarge(limit);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("invalid_body", 400, "body: could not be read (corrupt gzip data?)");
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

/** The body's bytes, inflated when gzip-encoded, at most `limit` of them. */
export async function readBodyBytes(request: Request, limit = MAX_BODY_BYTES): Promise<Uint8Array> {
  const encoding = (request.headers.get("content-encoding") ?? "identity").toLowerCase().trim();
  if (!request.body) return new Uint8Array();
  if (encoding === "identity" || encoding === "") {
    const declared = request.headers.get("content-length");
    if (Number(declared ?? "0") > limit) throw tooLarge(limit);
    // A declared length within the limit is enforced by the runtime; only chunked bodies need counting.
    if (declared !== null) return new Uint8Array(await request.arrayBuffer());
    return readBounded(request.body, limit);
  }
  if (encoding !== "gzip")
    throw new AppError("unsupported_encoding", 415, `Content-Encoding: ${encoding} is not supported; use gzip or none`);
  return readBounded(request.body.pipeThrough(new DecompressionStream("gzip")), limit);
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly; invalid bytes are the client's error. */
export function decodeUtf8(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new AppError("invalid_body", 400, "body: is not valid UTF-8");
  }
}

/**
 * Media types whose body is read as JSON text: JSON itself, text/plain (sendBeacon, Plausible), and
 * application/x-www-form-urlencoded, which is what `curl -d` labels any body — the README's own
 * first command. Anything else (multipart, binary) is a 415.
 */
const JSON_TYPES = /^(application\/json|text\/plain|application\/x-www-form-urlencoded)\s*(;|$)/i;

/** Parses the request body as JSON, refusing other media types, oversized, non-UTF-8 and malformed bodies. */
export async function readJsonBody(request: Request): Promise<{ body: unknown; bytes: number }> {
  const type = request.headers.get("content-type");
  if (type && !JSON_TYPES.test(type.trim())) {
    throw new AppError(
      "unsupported_media_type",
      415,
      `Content-Type: ${type.slice(0, 100)} is not accepted; send application/json or text/plain`,
    );
  }
  const bytes = await readBodyBytes(request);
  if (bytes.byteLength === 0)
    throw new AppError("invalid_body", 400, 'body: is empty; send a JSON event, array or {"events":[…]}');
  const text = decodeUtf8(bytes);
  try {
    return { body: JSON.parse(text), bytes: bytes.byteLength };
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : "parse error";
    throw new AppError("invalid_json", 400, `body: is not valid JSON (${detail})`);
  }
}
