/**
 * An upper bound on the UTF-8 size of `JSON.stringify(value)`, computed without building the
 * string: the queue producer packs events into ≤ 64 KB messages, and serialising every event
 * only to learn that a request's events fit in one message cost more than the rest of packing.
 * The bound is exact for the common case (printable ASCII strings, integers) and safe for all.
 * Pure.
 */

/** Strings JSON writes verbatim, one byte per character: printable ASCII except `"` and `\`. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Characters JSON escapes (control characters, `"`, `\`, lone surrogates): at most six bytes each. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: escaped characters are what this detects
const ESCAPED = /[\u0000-\u001f"\\\ud800-\udfff]/;

function stringBound(s: string): number {
  if (PLAIN.test(s)) return s.length + 2;
  // A UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4); an escape at most 6 (`\uXXXX`).
  return (ESCAPED.test(s) ? 6 : 3) * s.length + 2;
}

/** Bytes of `JSON.stringify(value)` at most; `undefined` members count as if written. */
export function jsonSizeBound(value: unknown): number {
  switch (typeof value) {
    case "string":
      return stringBound(value);
    case "number":
      // Integers up to 2^53 print as they are; any other double in at most 24 characters.
      return Number.isSafeInteger(value) ? String(value).length : 24;
    case "boolean":
      return 5;
    case "object": {
      if (value === null) return 4;
      // A custom serialisation (Date, …) may write anything: no bound short of writing it.
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return Number.POSITIVE_INFINITY;
      if (Array.isArray(value)) {
        let size = 2 + value.length;
        for (const item of value) size += jsonSizeBound(item);
        return size;
      }
      let size = 2;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        size += stringBound(key) + 2 + jsonSizeBound((value as Record<string, unknown>)[key]);
      }
      return size;
    }
    default:
      // undefined, functions and symbols are left out (or written as null in arrays).
      return 4;
  }
}
