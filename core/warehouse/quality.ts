/**
 * The data-quality check of one UTC hour (issue #16), pure: how many events each property has in
 * the archive (the truth), in ClickHouse and in the warehouse, compared into `data_quality` rows.
 * An hour is ok for a property when the warehouse holds exactly what the archive does, and so does
 * ClickHouse while the hour is within its hot retention (after it, ClickHouse no longer counts:
 * its copy may be gone by design). Hot retention (core/warehouse/retention.ts) trusts only ok rows.
 */
import type { ExpressionBuilder, Kysely } from "kysely";
import { z } from "zod";
import { PROPERTY_ID_PATTERN } from "../event.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";
import { timestamp } from "./aggregates.ts";
import type { WarehouseDatabase } from "./schema.ts";

type DB = Kysely<WarehouseDatabase>;
export type QualityRow = WarehouseDatabase["data_quality"];
/** Events per property. */
export type Counts = ReadonlyMap<string, number>;

/** Whether ClickHouse still holds the hour: it ends after the retention's start. */
export function withinHotRetention(hour: number, now: number, retentionDays: number): boolean {
  return hour + HOUR_MS > now - retentionDays * DAY_MS;
}

/** ClickHouse's events per property in the hour (JSONEachRow rows `{ property_id, events }`). */
export function clickHouseHourCounts(hour: number) {
  return {
    sql: `SELECT property_id, count() AS events FROM events
WHERE event_timestamp >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND event_timestamp < fromUnixTimestamp64Milli({to:Int64}, 'UTC')
GROUP BY property_id`,
    params: { from: hour, to: hour + HOUR_MS },
  };
}

/** The warehouse's events per property in the hour. */
export function warehouseHourCounts(db: DB, hour: number) {
  return db
    .selectFrom("events")
    .select((eb) => ["property_id", eb.fn.countAll<number>().as("events")])
    .where((eb) =>
      eb.and([
        eb(timestamp(hour), "<=", eb.ref("event_timestamp")),
        eb(eb.ref("event_timestamp"), "<", timestamp(hour + HOUR_MS)),
      ]),
    )
    .groupBy("property_id");
}

/** Events per property from rows with a property id each (archive records, one per event). */
export function countByProperty(rows: Iterable<{ property_id: string }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.property_id, (counts.get(r.property_id) ?? 0) + 1);
  return counts;
}

/**
 * One row per property that any of the three stores has events of in the hour, ordered by property.
 * `clickhouse` null: the hour is past hot retention and ClickHouse does not count.
 */
export function compareHour(
  hour: number,
  archive: Counts,
  clickhouse: Counts | null,
  warehouse: Counts,
  checkedAt: number,
): QualityRow[] {
  const properties = new Set([...archive.keys(), ...warehouse.keys(), ...(clickhouse?.keys() ?? [])]);
  return [...properties].sort().map((property_id) => {
    const archived = archive.get(property_id) ?? 0;
    const hot = clickhouse ? (clickhouse.get(property_id) ?? 0) : null;
    const loaded = warehouse.get(property_id) ?? 0;
    return {
      property_id,
      hour: new Date(hour),
      archive_events: archived,
      clickhouse_events: hot,
      warehouse_events: loaded,
      ok: loaded === archived && (hot === null || hot === archived),
      checked_at: new Date(checkedAt),
    };
  });
}

/** Replaces the hour's rows (every property): run both in one transaction. */
export function replaceQualityRows(db: DB, hour: number, rows: readonly QualityRow[]) {
  return {
    clear: db.deleteFrom("data_quality").where((eb) => eb(eb.ref("hour"), "=", timestamp(hour))),
    insert:
      rows.length === 0
        ? null
        : db.insertInto("data_quality").values(
            rows.map((r) => ({
              ...r,
              // Instants as UTC text (see aggregates.ts timestamp), not Dates in the process's zone.
              hour: timestamp(r.hour.getTime()),
              checked_at: timestamp(r.checked_at.getTime()),
            })),
          ),
  };
}

/**
 * A UTC calendar day the warehouse's timestamps can hold: 2026-13-40 made an invalid Date and
 * 9999-12-31's end a five-digit year PostgreSQL refuses, each a 500 (found by the fuzz suite).
 */
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: "must be a date such as 2026-11-01", abort: true })
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(d);
  }, "is not a calendar date")
  .refine((d) => d >= "1970-01-01" && d <= "9999-12-30", "must be between 1970-01-01 and 9999-12-30");

/** `GET /api/v1/data-quality?property_id=…&from=…&to=…`: whole UTC days, `to` inclusive; default the last 7 days. */
export const DataQualityQuerySchema = z
  .strictObject({
    property_id: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug"),
    from: Day.optional(),
    to: Day.optional(),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: "must not be after to", path: ["from"] });
export type DataQualityQuery = z.infer<typeof DataQualityQuerySchema>;

export function dataQualityRange(q: DataQualityQuery, now: number): { from: number; to: number } {
  const to = q.to ? Date.parse(`${q.to}T00:00:00Z`) + DAY_MS : now;
  const from = q.from ? Date.parse(`${q.from}T00:00:00Z`) : to - 7 * DAY_MS;
  return { from, to };
}

/** The property's checks in the range: how many hours, and the ones that disagreed (oldest first). */
export function dataQualityReport(db: DB, propertyId: string, range: { from: number; to: number }) {
  const inRange = (eb: ExpressionBuilder<WarehouseDatabase, "data_quality">) =>
    eb.and([
      eb("property_id", "=", propertyId),
      eb(timestamp(range.from), "<=", eb.ref("hour")),
      eb(eb.ref("hour"), "<", timestamp(range.to)),
    ]);
  return {
    checked: db
      .selectFrom("data_quality")
      .select((eb) => eb.fn.countAll<number>().as("hours"))
      .where(inRange),
    mismatches: db
      .selectFrom("data_quality")
      .select(["hour", "archive_events", "clickhouse_events", "warehouse_events", "checked_at"])
      .where(inRange)
      .where("ok", "=", false)
      .orderBy("hour")
      .limit(1000),
  };
}
