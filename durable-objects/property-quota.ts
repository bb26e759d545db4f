/**
 * The PropertyDO's side of a query: the hourly quota, a fixed window per clock hour counted under
 * `quota:<hour start>` (only the current hour's counter is kept), and the data versions that key
 * the query cache (platform/query-cache.ts), both answered by the one call a query makes.
 */
import { HOUR_MS } from "../core/time.ts";
import { type DataVersion, LATE_EVENT_MS } from "../platform/query-cache.ts";

/** The answer to one query's charge. */
export interface QuotaCharge {
  allowed: boolean;
  remaining: number;
  retry_after_seconds: number;
}

/** A query's admission: its charge, and the data versions its cache key and TTL depend on. */
export interface Admission {
  quota: QuotaCharge;
  data: DataVersion;
}

/** Counts `units` statements against `limit` per clock hour; a refused charge counts nothing. */
export async function chargeQuery(
  storage: DurableObjectStorage,
  now: number,
  limit: number,
  units = 1,
): Promise<QuotaCharge> {
  const hourStart = now - (now % HOUR_MS);
  const key = `quota:${hourStart}`;
  const retry_after_seconds = Math.max(1, Math.ceil((hourStart + HOUR_MS - now) / 1000));
  // The read and the write below are not interleaved with other calls: storage operations keep
  // the actor's input gate closed, so two concurrent queries cannot both take the last unit.
  const used = (await storage.get<number>(key)) ?? 0;
  if (used + units > limit) return { allowed: false, remaining: Math.max(0, limit - used), retry_after_seconds };
  if (used === 0) {
    // First query of a new hour: earlier windows are finished, drop them.
    const old = [...(await storage.list({ prefix: "quota:" })).keys()].filter((k) => k !== key);
    if (old.length > 0) await storage.delete(old);
  }
  await storage.put(key, used + units);
  return { allowed: true, remaining: limit - used - units, retry_after_seconds };
}

/**
 * The property's data versions, held in memory: a version is this instance's random epoch and a
 * counter, so a restarted actor starts fresh keys (never an old key over newer data) without a
 * storage write per batch. A new instance counts as just changed: the last batch before a restart
 * may still be on its way to ClickHouse.
 */
export class DataVersions {
  readonly #epoch = crypto.randomUUID().slice(0, 12);
  readonly #recent = { n: 0, at: Date.now() };
  readonly #history = { n: 0, at: Date.now() };

  /**
   * A batch reached the actor, its ClickHouse insert next; `eventTimes` are those of the events it
   * may write (new ones, and repeats a redelivery may still write). Late events (or none to see)
   * move `history` too.
   */
  advance(eventTimes: readonly number[], now: number): void {
    this.#recent.n++;
    this.#recent.at = now;
    if (eventTimes.length === 0 || eventTimes.some((t) => t < now - LATE_EVENT_MS)) {
      this.#history.n++;
      this.#history.at = now;
    }
  }

  /** The versions now, each with its age on this actor's clock. */
  read(now: number): DataVersion {
    const scope = (s: { n: number; at: number }) => ({ version: `${this.#epoch}.${s.n}`, age_ms: now - s.at });
    return { recent: scope(this.#recent), history: scope(this.#history) };
  }
}
