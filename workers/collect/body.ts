/** Reads a bounded JSON body; anything else is a 4xx that says what was wrong. */
import { AppError } from "../../core/errors.ts";

/** Our spec's request bound (decompressed): 20 events of at most 32 KB leave room to spare. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Parses the request body as JSON, refusing oversized, non-UTF-8 and malformed bodies. */
export async function readJsonBody(request: Request): Promise<unknown> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw tooLarge();
  if (bytes.byteLength === 0)
    throw new AppError("invalid_body", 400, 'body: is empty; send a JSON event, array or {"events":[…]}');
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new AppError("invalid_body", 400, "body: is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : "parse error";
    throw new AppError("invalid_json", 400, `body: is not valid JSON (${detail})`);
  }
}

function tooLarge(): AppError {
  return new AppError("payload_too_large", 413, `body: exceeds ${MAX_BODY_BYTES} bytes`);
}
