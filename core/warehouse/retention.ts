/**
 * Hot retention made real (issue #16), pure: which of ClickHouse's `events` day partitions
 * (PARTITION BY toYYYYMMDD(event_timestamp)) may be dropped. A day goes only when it lies wholly
 * before HOT_RETENTION_DAYS and the data-quality check (core/warehouse/quality.ts) has found every
 * property-hour ClickHouse holds that day ok — the warehouse has it all — and none of the day's
 * checks failed. Anything else keeps the day, with the reasons, until a later run.
 */
import type { Kysely } from "kysely";
import { DAY_MS } from "../time.ts";
import { timestamp } from "./aggregates.ts";
import type { WarehouseDatabase } from "./schema.ts";

type DB = Kysely<WarehouseDatabase>;

/** The partitions `events` has (JSONEachRow rows `{ partition }`, e.g. "20260304"). */
export const EVENT_PARTITIONS_SQL =
  "SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active ORDER BY partition";

/** A partition id → the epoch ms of its UTC day, or null for anything not a YYYYMMDD date. */
export function partitionDay(partition: string): number | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(partition);
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10).replaceAll("-", "") === partition ? ms : null;
}

/**
 * The days (epoch ms) that lie wholly before the retention's start and before the warehouse's
 * frontier, oldest first. The query API answers a cold range from the warehouse only up to the
 * frontier (every hour before it is loaded) and from ClickHouse after it, so a day past the
 * frontier stays in ClickHouse even when its hours are loaded and checked (a late load or backfill
 * ahead of the schedule).
 */
export function expiredDays(
  partitions: readonly string[],
  now: number,
  retentionDays: number,
  frontier: number,
): number[] {
  const end = Math.min(now - retentionDays * DAY_MS, frontier);
  return partitions
    .map(partitionDay)
    .filter((d): d is number => d !== null && d + DAY_MS <= end)
    .sort((a, b) => a - b);
}

/** ClickHouse's property-hours with events in the day (rows `{ property_id, hour }`, hour in epoch ms). */
export function clickHouseDayHours(day: number) {
  return {
    sql: `SELECT property_id, toUnixTimestamp(toStartOfHour(event_timestamp)) * 1000 AS hour FROM events
WHERE event_timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND event_timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
GROUP BY property_id, hour`,
    params: { from: day, to: day + DAY_MS },
  };
}

/** The day's data-quality rows. */
export function dayQuality(db: DB, day: number) {
  return db
    .selectFrom("data_quality")
    .select(["property_id", "hour", "ok"])
    .where((eb) =>
      eb.and([eb(timestamp(day), "<=", eb.ref("hour")), eb(eb.ref("hour"), "<", timestamp(day + DAY_MS))]),
    );
}

export interface Verdict {
  drop: boolean;
  /** Why the day is kept (empty when it is dropped). */
  reasons: string[];
}

const hourText = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace("T", " ");

/** Drop the day only if every property-hour ClickHouse holds has an ok check and no check of the day failed. */
export function retentionVerdict(
  held: readonly { property_id: string; hour: number }[],
  quality: readonly { property_id: string; hour: Date; ok: boolean }[],
): Verdict {
  const key = (p: string, h: number) => `${p}|${h}`;
  const ok = new Map(quality.map((q) => [key(q.property_id, q.hour.getTime()), q.ok]));
  const reasons: string[] = [];
  for (const h of held) {
    const verdict = ok.get(key(h.property_id, h.hour));
    if (verdict === undefined) reasons.push(`${h.property_id} ${hourText(h.hour)}h: not checked`);
  }
  for (const q of quality)
    if (!q.ok)
      reasons.push(`${q.property_id} ${hourText(q.hour.getTime())}h: archive, ClickHouse and warehouse disagree`);
  return { drop: reasons.length === 0, reasons };
}

/**
 * `ALTER TABLE events DROP PARTITION 20260304`: the id is built from the day's number alone (no
 * text reaches the statement), since ClickHouse takes no parameter there.
 */
export function dropPartitionSql(day: number): string {
  if (!Number.isInteger(day) || day % DAY_MS !== 0) throw new Error(`not a UTC day: ${day}`);
  const d = new Date(day);
  const id = d.getUTCFullYear() * 10_000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
  return `ALTER TABLE events DROP PARTITION ${id}`;
}
