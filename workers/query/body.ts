/**
 * The query API's request bound: a query is a few hundred bytes, so 64 KB leaves room for long
 * filter lists while keeping what one request can make the parser and the SQL builder chew on small.
 */
import { AppError } from "../../core/errors.ts";

export const MAX_QUERY_BYTES = 64 * 1024;

function tooLarge(field: string): AppError {
  return new AppError(
    "payload_too_large",
    413,
    `${field}: exceeds ${MAX_QUERY_BYTES} bytes; a query is a small JSON document`,
  );
}

/** The body as UTF-8 text, refused with 413 past MAX_QUERY_BYTES (declared or streamed). */
export async function readQueryBody(request: Request): Promise<string> {
  if (!request.body) return "";
  if (Number(request.headers.get("content-length") ?? "0") > MAX_QUERY_BYTES) throw tooLarge("body");
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_QUERY_BYTES) {
      await reader.cancel();
      throw tooLarge("body");
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    bytes.set(c, offset);
    offset += c.byteLength;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError("invalid_query", 400, "body: is not valid UTF-8");
  }
}

/** The `q` parameter of a GET query, under the same bound. */
export function boundedQueryParam(q: string): string {
  if (q.length > MAX_QUERY_BYTES) throw tooLarge("q");
  return q;
}
