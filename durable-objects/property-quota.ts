/**
 * The PropertyDO's query quota: a fixed window per clock hour, counted under `quota:<hour start>`.
 * Only the current hour's counter is kept.
 */
import { HOUR_MS } from "../core/time.ts";

/** The answer to one query's charge. */
export interface QuotaCharge {
  allowed: boolean;
  remaining: number;
  retry_after_seconds: number;
}

/** Counts one query against `limit` per clock hour; refused queries are not counted. */
export async function chargeQuery(storage: DurableObjectStorage, now: number, limit: number): Promise<QuotaCharge> {
  const hourStart = now - (now % HOUR_MS);
  const key = `quota:${hourStart}`;
  const retry_after_seconds = Math.max(1, Math.ceil((hourStart + HOUR_MS - now) / 1000));
  // The read and the write below are not interleaved with other calls: storage operations keep
  // the actor's input gate closed, so two concurrent queries cannot both take the last unit.
  const used = (await storage.get<number>(key)) ?? 0;
  if (used >= limit) return { allowed: false, remaining: 0, retry_after_seconds };
  if (used === 0) {
    // First query of a new hour: earlier windows are finished, drop them.
    const old = [...(await storage.list({ prefix: "quota:" })).keys()].filter((k) => k !== key);
    if (old.length > 0) await storage.delete(old);
  }
  await storage.put(key, used + 1);
  return { allowed: true, remaining: limit - used - 1, retry_after_seconds };
}
