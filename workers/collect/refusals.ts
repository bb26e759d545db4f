/**
 * Refusal counters (unknown property, foreign origin, rate limit): gathered per isolate and
 * flushed to the actors at most every REFUSAL_FLUSH_SECONDS, so a flood of refused requests is
 * not also a flood of actor writes.
 */
import { propertyStub, registryStub } from "../../platform/properties.ts";

const pending = new Map<string, Map<string, number>>();
let lastFlush = 0;
const UNKNOWN = "";

/** Counts one refusal; `propertyId` undefined means "no such property" (counted in the registry). */
export function countRefusal(propertyId: string | undefined, reason: string, n = 1): void {
  const key = propertyId ?? UNKNOWN;
  const reasons = pending.get(key) ?? new Map<string, number>();
  reasons.set(reason, (reasons.get(reason) ?? 0) + n);
  pending.set(key, reasons);
}

/** True when some refusal is waiting to be written (lets the common request skip scheduling a flush). */
export function hasPendingRefusals(): boolean {
  return pending.size > 0;
}

/** Writes pending counts when the interval has passed; call from `waitUntil`. */
export async function flushRefusals(env: Env, intervalSeconds: number, now = Date.now()): Promise<void> {
  if (pending.size === 0 || now - lastFlush < intervalSeconds * 1000) return;
  lastFlush = now;
  const batch = [...pending.entries()];
  pending.clear();
  await Promise.all(
    batch.map(([propertyId, reasons]) => {
      const counts = Object.fromEntries(reasons);
      return propertyId === UNKNOWN
        ? registryStub(env).recordRefusals(counts)
        : propertyStub(env, propertyId).recordRefusals(counts);
    }),
  );
}
