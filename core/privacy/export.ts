/**
 * A visitor's events as NDJSON (GDPR access): read page by page from ClickHouse (the hot days) and
 * the warehouse (every loaded day), in time order, each event once (by event_id: the two overlap
 * on the days both hold). Why not the archive: it is the truth, but finding a visitor there means
 * reading every hour's files; the two query stores are indexed by property and time and hold every
 * archived event once the warehouse has loaded its hour (the erasure job reads the same stores).
 */
import type { Kysely } from "kysely";
import { EVENT_COLUMNS } from "../clickhouse-row.ts";
import type { WarehouseDatabase } from "../warehouse/schema.ts";
import type { Statement } from "./erasure-clickhouse.ts";

/** Rows per page read from either store. */
export const EXPORT_PAGE_ROWS = 2_000;

/** The columns an exported event has, in order (the stored event with its session id and arrival time). */
export const EXPORT_COLUMNS = Object.keys(EVENT_COLUMNS) as (keyof typeof EVENT_COLUMNS)[];
const TIMES = new Set<string>(["event_timestamp", "received_at"]);
const MAPS = new Set<string>(["custom_dimensions", "custom_metrics"]);

/** Where the next page starts: after this (time, event id). */
export interface ExportCursor {
  at: number;
  event_id: string;
}

/** One page of the visitor's events from ClickHouse, after `cursor`. */
export function clickHousePage(
  propertyId: string,
  visitor: string,
  clientIds: readonly string[],
  cursor: ExportCursor | null,
): Statement {
  const after = cursor
    ? " AND (event_timestamp, event_id) > (fromUnixTimestamp64Milli({at:Int64}, 'UTC'), {after:String})"
    : "";
  return {
    sql: `SELECT ${EXPORT_COLUMNS.join(", ")} FROM events WHERE property_id = {p:String} AND (client_id IN {ids:Array(String)} OR user_id = {v:String})${after} ORDER BY event_timestamp, event_id LIMIT ${EXPORT_PAGE_ROWS}`,
    params: { p: propertyId, v: visitor, ids: [...clientIds], at: cursor?.at ?? 0, after: cursor?.event_id ?? "" },
  };
}

/** One page of the visitor's events from the warehouse, after `cursor`. */
export function warehousePage(
  db: Kysely<WarehouseDatabase>,
  propertyId: string,
  visitor: string,
  clientIds: readonly string[],
  cursor: ExportCursor | null,
) {
  const ids = clientIds.length > 0 ? [...clientIds] : [visitor];
  let query = db
    .selectFrom("events")
    .select(EXPORT_COLUMNS)
    .where("property_id", "=", propertyId)
    .where((eb) => eb.or([eb("client_id", "in", ids), eb("user_id", "=", visitor)]));
  if (cursor) {
    const at = new Date(cursor.at);
    query = query.where((eb) =>
      eb.or([
        eb("event_timestamp", ">", at),
        eb.and([eb("event_timestamp", "=", at), eb("event_id", ">", cursor.event_id)]),
      ]),
    );
  }
  return query.orderBy("event_timestamp").orderBy("event_id").limit(EXPORT_PAGE_ROWS);
}

/** Epoch ms of a stored time: ClickHouse's `YYYY-MM-DD hh:mm:ss.sss` (UTC) or the warehouse's Date. */
export function storedTime(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return Date.parse(`${String(value).replace(" ", "T")}Z`);
}

/** An exported event from either store's row: times as ISO 8601, maps as objects, columns in order. */
export function exportedEvent(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const column of EXPORT_COLUMNS) {
    const value = row[column];
    if (TIMES.has(column)) out[column] = new Date(storedTime(value)).toISOString();
    else if (MAPS.has(column) && typeof value === "string") out[column] = value === "" ? {} : JSON.parse(value);
    else out[column] = value;
  }
  return out;
}
