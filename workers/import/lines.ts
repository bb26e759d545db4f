/** Splits a streamed body into lines without holding the whole body: imports can be large. */
import { AppError } from "../../core/errors.ts";

/** Bounds on the whole body; past either, a 413 (AppError from `tooLarge`). */
export interface BodyLimits {
  maxBytes: number;
  maxLines: number;
  tooLarge: (what: string) => AppError;
}

/**
 * Yields `[lineNumber, text]` for each non-empty line; a line longer than `maxLine` bytes is a
 * 413, and so is a body past `limits` (checked as it streams: lines before it were yielded).
 */
export async function* ndjsonLines(
  body: ReadableStream<Uint8Array>,
  maxLine: number,
  limits?: BodyLimits,
): AsyncGenerator<[number, string]> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });
  let buffer = "";
  let lineNo = 0;
  let bytes = 0;
  let events = 0;
  const reader = body.getReader();
  const counted = (line: string): boolean => {
    if (line === "") return false;
    events++;
    if (limits && events > limits.maxLines) throw limits.tooLarge(`holds more than ${limits.maxLines} events`);
    return true;
  };
  for (;;) {
    const { done, value } = await reader.read();
    bytes += value?.byteLength ?? 0;
    if (limits && bytes > limits.maxBytes) {
      await reader.cancel();
      throw limits.tooLarge(`exceeds ${limits.maxBytes} bytes`);
    }
    try {
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
    } catch {
      throw new AppError("invalid_body", 400, `line ${lineNo + 1}: is not valid UTF-8`);
    }
    let nl = buffer.indexOf("\n");
    while (nl >= 0) {
      lineNo++;
      const line = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (line.length > maxLine) throw new AppError("event_too_large", 413, `line ${lineNo}: exceeds ${maxLine} bytes`);
      if (counted(line)) yield [lineNo, line];
      nl = buffer.indexOf("\n");
    }
    if (buffer.length > maxLine)
      throw new AppError("event_too_large", 413, `line ${lineNo + 1}: exceeds ${maxLine} bytes`);
    if (done) break;
  }
  const last = buffer.trim();
  if (counted(last)) yield [lineNo + 1, last];
}
