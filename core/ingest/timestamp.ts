/**
 * Event timestamps arrive as epoch seconds, epoch milliseconds or ISO 8601 text; inside Tally
 * they are always epoch milliseconds (integers).
 */

/** Below this, a number is taken as seconds: 1e11 s is the year 5138, 1e11 ms is 1973. */
const SECONDS_CUTOFF = 1e11;
/** ISO 8601 date-time with a zone (Z or ±hh:mm); a date alone is midnight UTC. */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Earliest instant Tally accepts: web analytics before 2000 is a bug, not history. */
export const MIN_TIMESTAMP_MS = Date.UTC(2000, 0, 1);
/** Latest instant Tally accepts at all (the collect edge applies a tighter bound). */
export const MAX_TIMESTAMP_MS = Date.UTC(2100, 0, 1);

/** Date.parse rolls 2026-02-31 over to March; a timestamp that names no real day is an error. */
function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split("-").map(Number);
  if (y === undefined || m === undefined || d === undefined) return false;
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

export type TimestampResult = { ok: true; ms: number } | { ok: false; reason: string };

/** Parses one timestamp in any accepted form into integer epoch milliseconds. */
export function parseTimestamp(input: number | string): TimestampResult {
  let ms: number;
  if (typeof input === "number") {
    if (!Number.isFinite(input)) return { ok: false, reason: "must be a finite number" };
    ms = Math.abs(input) < SECONDS_CUTOFF ? input * 1000 : input;
  } else {
    const text = input.trim();
    if (/^\d+(\.\d+)?$/.test(text)) return parseTimestamp(Number(text));
    if (!ISO_8601.test(text)) {
      return { ok: false, reason: "must be epoch seconds, epoch milliseconds or ISO 8601" };
    }
    if (!isCalendarDate(text.slice(0, 10))) return { ok: false, reason: "is not a valid date" };
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) || text.length === 10;
    ms = Date.parse(hasZone ? text : `${text}Z`);
    if (Number.isNaN(ms)) return { ok: false, reason: "is not a valid date" };
  }
  ms = Math.round(ms);
  if (ms < MIN_TIMESTAMP_MS || ms >= MAX_TIMESTAMP_MS) {
    return { ok: false, reason: "must be between 2000-01-01 and 2100-01-01" };
  }
  return { ok: true, ms };
}
