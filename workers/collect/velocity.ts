/**
 * Events per visitor in the current minute, per isolate: the signal behind the `velocity` bot
 * reason. Approximate by design (a visitor spread over isolates counts less), and bounded.
 */
const MAX_VISITORS = 50_000;
let minute = 0;
let counts = new Map<string, number>();

/** Counts `n` more events for the visitor and returns the minute's total. */
export function countVisitorEvents(visitorKey: string, n: number, now = Date.now()): number {
  const current = Math.floor(now / 60_000);
  if (current !== minute || counts.size > MAX_VISITORS) {
    minute = current;
    counts = new Map();
  }
  const total = (counts.get(visitorKey) ?? 0) + n;
  counts.set(visitorKey, total);
  return total;
}
