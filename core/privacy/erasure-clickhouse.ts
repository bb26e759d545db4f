/**
 * An erasure's ClickHouse statements: find a visitor's client ids and hours, delete their raw rows,
 * and rebuild the rollups of the days they touched. The rollups hold sketches (uniqCombined) that
 * cannot lose one visitor, so a touched day's hourly rows are deleted and derived again from the
 * raw tables by the same SELECT as their materialized views (held equal to the latest migration by
 * test/unit/erasure-rollup-contract.test.ts); the day tables follow through their own views, and
 * their longer blocks are rebuilt from the one-day rows (core/query/rollup-spans.ts). Tables come
 * only from the lists here; values are parameters.
 */
import { DAY_MS } from "../time.ts";

export interface Statement {
  sql: string;
  params: Record<string, unknown>;
}

/** Every table holding a property's rows, and the column that places a row in time. */
export const ERASED_TABLES = [
  ["events", "event_timestamp"],
  ["session_log", "opened_at"],
  ["sessions", "opened_at"],
  ["events_rollup", "hour"],
  ["sessions_rollup", "hour"],
  ["events_rollup_days", "day"],
  ["sessions_rollup_days", "day"],
  // A deleted property's traffic alerts go with it (they name no visitor: a visitor's erasure leaves them).
  ["alerts", "opened_at"],
] as const;

/** Deletes settle before the statement answers, so the rebuild that follows reads what is left. */
export const DELETE_SETTINGS = { lightweight_deletes_sync: "2", mutations_sync: "2" } as const;
/**
 * The rebuild writes the same blocks again when a step is retried: without this, the rollups'
 * deduplication window (migration 0007) would drop the retry's blocks after its delete.
 */
export const REBUILD_SETTINGS = { insert_deduplicate: "0", lightweight_deletes_sync: "2" } as const;

const VISITOR_EVENTS = "property_id = {p:String} AND (client_id IN {ids:Array(String)} OR user_id = {v:String})";
const VISITOR_SESSIONS = "property_id = {p:String} AND client_id IN {ids:Array(String)}";

/** The client ids that are the visitor, or that sent its user id. */
export function findClientIds(propertyId: string, visitor: string): Statement {
  return {
    sql: "SELECT DISTINCT client_id FROM events WHERE property_id = {p:String} AND (client_id = {v:String} OR user_id = {v:String})",
    params: { p: propertyId, v: visitor },
  };
}

const hourMs = (column: string) => `toInt64(toUnixTimestamp(toStartOfHour(${column}))) * 1000 AS hour`;

/** The hours (epoch ms) holding the visitor's events or the openings of their sessions; every hour of the property without a visitor. */
export function findHours(propertyId: string, visitor?: string, clientIds: readonly string[] = []): Statement {
  if (visitor === undefined)
    return {
      sql: `SELECT DISTINCT ${hourMs("event_timestamp")} FROM events WHERE property_id = {p:String} UNION DISTINCT SELECT DISTINCT ${hourMs("opened_at")} FROM session_log WHERE property_id = {p:String}`,
      params: { p: propertyId },
    };
  return {
    sql: `SELECT DISTINCT ${hourMs("event_timestamp")} FROM events WHERE ${VISITOR_EVENTS} UNION DISTINCT SELECT DISTINCT ${hourMs("opened_at")} FROM session_log WHERE ${VISITOR_SESSIONS}`,
    params: { p: propertyId, v: visitor, ids: [...clientIds] },
  };
}

/** Counts of the visitor's raw rows (what the deletes will remove), as `n`. */
export function countVisitorRows(propertyId: string, visitor: string, clientIds: readonly string[]): Statement {
  return {
    sql: `SELECT (SELECT count() FROM events WHERE ${VISITOR_EVENTS}) + (SELECT count() FROM session_log WHERE ${VISITOR_SESSIONS}) AS n`,
    params: { p: propertyId, v: visitor, ids: [...clientIds] },
  };
}

/** Deletes the visitor's raw rows: events, the session log and the sessions it feeds. */
export function deleteVisitorRows(propertyId: string, visitor: string, clientIds: readonly string[]): Statement[] {
  const params = { p: propertyId, v: visitor, ids: [...clientIds] };
  return [
    { sql: `DELETE FROM events WHERE ${VISITOR_EVENTS}`, params },
    { sql: `DELETE FROM session_log WHERE ${VISITOR_SESSIONS}`, params },
    { sql: `DELETE FROM sessions WHERE ${VISITOR_SESSIONS}`, params },
  ];
}

/** Deletes every row of the property from every table. */
export function deletePropertyRows(propertyId: string): Statement[] {
  return ERASED_TABLES.map(([table]) => ({
    sql: `DELETE FROM ${table} WHERE property_id = {p:String}`,
    params: { p: propertyId },
  }));
}

/** Counts the property's rows in `events` and `session_log`, as `n`. */
export function countPropertyRows(propertyId: string): Statement {
  return {
    sql: "SELECT (SELECT count() FROM events WHERE property_id = {p:String}) + (SELECT count() FROM session_log WHERE property_id = {p:String}) AS n",
    params: { p: propertyId },
  };
}

/** `events_rollup_mv`'s SELECT up to its GROUP BY (migration 0011). */
export const EVENTS_ROLLUP_SELECT = `SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(event_timestamp) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedStateIf(14)(client_id, dim IN ('', 'goal:pageview', 'goal:event')) AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, dim NOT IN ('', 'goal:pageview', 'goal:event')) AS visitors_p12,
    uniqCombinedStateIf(12)(session_id, dim != '') AS visits_p12,
    toUInt64(countIf(event_type = 'pageview')) AS pageviews,
    toUInt64(count()) AS events
FROM events
ARRAY JOIN arrayConcat([
    ('', ''),
    ('event:page', page_path),
    ('event:name', toString(event_type)),
    ('event:hostname', toString(page_host)),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country)),
    ('goal:event', toString(event_type))
], if(event_type = 'pageview', [('goal:pageview', page_path)], [])) AS pair`;

/** `sessions_rollup_mv`'s SELECT up to its GROUP BY (migration 0006). */
export const SESSIONS_ROLLUP_SELECT = `SELECT
    property_id,
    pair.1 AS dim,
    toStartOfHour(opened_at) AS hour,
    is_bot,
    pair.2 AS value,
    uniqCombinedStateIf(14)(client_id, sign > 0 AND dim = '') AS visitors_p14,
    uniqCombinedStateIf(12)(client_id, sign > 0 AND dim != '') AS visitors_p12,
    sum(toInt64(sign)) AS visits,
    sum(sign * toInt64(is_bounce)) AS bounces,
    sum(sign * toInt64(duration)) AS duration,
    sum(sign * toInt64(pageviews)) AS pageviews,
    sum(sign * toInt64(events)) AS events
FROM session_log
ARRAY JOIN [
    ('', ''),
    ('visit:entry_page', entry_page),
    ('visit:exit_page', exit_page),
    ('visit:source', toString(source)),
    ('visit:referrer', referrer_host),
    ('visit:channel', toString(channel)),
    ('visit:utm_source', utm_source),
    ('visit:utm_medium', toString(utm_medium)),
    ('visit:utm_campaign', utm_campaign),
    ('visit:device', toString(device_type)),
    ('visit:browser', toString(browser)),
    ('visit:os', toString(os)),
    ('visit:country', toString(country))
] AS pair`;

export const ROLLUP_GROUP_BY = "GROUP BY property_id, dim, hour, is_bot, value";

const ROLLUPS = [
  { hourly: "events_rollup", days: "events_rollup_days", select: EVENTS_ROLLUP_SELECT, time: "event_timestamp" },
  { hourly: "sessions_rollup", days: "sessions_rollup_days", select: SESSIONS_ROLLUP_SELECT, time: "opened_at" },
] as const;

const range = (column: string) =>
  `${column} >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND ${column} < fromUnixTimestamp64Milli({to:Int64}, 'UTC')`;

/**
 * Rebuilds one UTC day (`day`: epoch ms of its start) of the property's hourly rollups and one-day
 * rows from the raw tables. The re-insert also adds to the longer day blocks: rebuild those after
 * (respanStatements over alignedCover). Run in order; a re-run gives the same rows.
 */
export function rebuildDayStatements(propertyId: string, day: number): Statement[] {
  const params = { p: propertyId, from: day, to: day + DAY_MS };
  return ROLLUPS.flatMap((r) => [
    { sql: `DELETE FROM ${r.hourly} WHERE property_id = {p:String} AND ${range("hour")}`, params },
    { sql: `DELETE FROM ${r.days} WHERE property_id = {p:String} AND span = 1 AND ${range("day")}`, params },
    {
      sql: `INSERT INTO ${r.hourly} ${r.select} WHERE property_id = {p:String} AND ${range(r.time)} ${ROLLUP_GROUP_BY}`,
      params,
    },
  ]);
}
