/**
 * The one place where an event becomes a ClickHouse `events` row. The column list here is the
 * contract that the migrations must match (checked by test/integration/contract.test.ts).
 */
import type { Event } from "./event.ts";
import { durationSeconds, isBounce, type Session } from "./session/session.ts";

/** Every column of ClickHouse `events`, with its type, in table order. */
export const EVENT_COLUMNS = {
  event_id: "String",
  property_id: "LowCardinality(String)",
  client_id: "String",
  user_id: "String",
  session_id: "String",
  event_type: "LowCardinality(String)",
  event_timestamp: "DateTime64(3, 'UTC')",
  received_at: "DateTime64(3, 'UTC')",
  page_url: "String",
  page_title: "String",
  referrer: "String",
  user_agent: "String",
  screen_resolution: "LowCardinality(String)",
  viewport_size: "LowCardinality(String)",
  language: "LowCardinality(String)",
  custom_dimensions: "Map(String, String)",
  custom_metrics: "Map(String, Float64)",
  // 0002_enrichment.sql: what the edge adds (core/event.ts EnrichmentSchema).
  visitor_id_source: "LowCardinality(String)",
  source_protocol: "LowCardinality(String)",
  interactive: "Bool",
  browser: "LowCardinality(String)",
  browser_version: "LowCardinality(String)",
  os: "LowCardinality(String)",
  os_version: "LowCardinality(String)",
  device_type: "LowCardinality(String)",
  country: "LowCardinality(String)",
  region: "LowCardinality(String)",
  city: "LowCardinality(String)",
  continent: "LowCardinality(String)",
  geo_timezone: "LowCardinality(String)",
  asn: "UInt32",
  page_host: "LowCardinality(String)",
  page_path: "String",
  utm_source: "String",
  utm_medium: "LowCardinality(String)",
  utm_campaign: "String",
  utm_term: "String",
  utm_content: "String",
  click_id_type: "LowCardinality(String)",
  referrer_host: "String",
  source: "LowCardinality(String)",
  channel: "LowCardinality(String)",
  ip_prefix: "String",
  is_bot: "Bool",
  bot_reason: "LowCardinality(String)",
} as const;

/** Columns that are not event fields: filled by later stages of the pipeline. */
export const DERIVED_COLUMNS = ["session_id", "received_at"] as const;

type Column = keyof typeof EVENT_COLUMNS;
/** A row as JSONEachRow sends it: Maps as objects, Bool as booleans, UInt32 as numbers, the rest text. */
export type EventRow = {
  [K in Column]: K extends "custom_dimensions"
    ? Record<string, string>
    : K extends "custom_metrics"
      ? Record<string, number>
      : K extends "interactive" | "is_bot"
        ? boolean
        : K extends "asn"
          ? number
          : string;
};

/** `2026-11-26 09:30:00.123`: the text form DateTime64(3, 'UTC') parses without settings. */
export function toClickHouseDateTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}

/** Converts one accepted event to its row; absent optional fields become empty values. */
export function toClickHouseRow(event: Event, receivedAtMs: number, sessionId = ""): EventRow {
  return {
    event_id: event.event_id,
    property_id: event.property_id,
    client_id: event.client_id,
    user_id: event.user_id ?? "",
    session_id: sessionId,
    event_type: event.event_type,
    event_timestamp: toClickHouseDateTime(event.event_timestamp),
    received_at: toClickHouseDateTime(receivedAtMs),
    page_url: event.page_url,
    page_title: event.page_title ?? "",
    referrer: event.referrer ?? "",
    user_agent: event.user_agent ?? "",
    screen_resolution: event.screen_resolution ?? "",
    viewport_size: event.viewport_size ?? "",
    language: event.language ?? "",
    custom_dimensions: event.custom_dimensions ?? {},
    custom_metrics: event.custom_metrics ?? {},
    visitor_id_source: event.visitor_id_source,
    source_protocol: event.source_protocol,
    interactive: event.interactive,
    browser: event.browser,
    browser_version: event.browser_version,
    os: event.os,
    os_version: event.os_version,
    device_type: event.device_type,
    country: event.country,
    region: event.region,
    city: event.city,
    continent: event.continent,
    geo_timezone: event.geo_timezone,
    asn: event.asn,
    page_host: event.page_host,
    page_path: event.page_path,
    utm_source: event.utm_source,
    utm_medium: event.utm_medium,
    utm_campaign: event.utm_campaign,
    utm_term: event.utm_term,
    utm_content: event.utm_content,
    click_id_type: event.click_id_type,
    referrer_host: event.referrer_host,
    source: event.source,
    channel: event.channel,
    ip_prefix: event.ip_prefix,
    is_bot: event.is_bot,
    bot_reason: event.bot_reason,
  };
}

/**
 * Every column of ClickHouse `sessions` (0003_sessions.sql, 0004_session_log.sql), with its type, in
 * table order. `sessions` is filled only by the materialized view over `session_log`.
 */
export const SESSION_COLUMNS = {
  session_id: "String",
  property_id: "LowCardinality(String)",
  client_id: "String",
  opened_at: "DateTime64(3, 'UTC')",
  started_at: "DateTime64(3, 'UTC')",
  last_event_at: "DateTime64(3, 'UTC')",
  pageviews: "UInt32",
  events: "UInt32",
  interactive_events: "UInt32",
  is_bounce: "Bool",
  duration: "UInt32",
  entry_page: "String",
  exit_page: "String",
  hostname: "LowCardinality(String)",
  referrer_host: "String",
  source: "LowCardinality(String)",
  channel: "LowCardinality(String)",
  utm_source: "String",
  utm_medium: "LowCardinality(String)",
  utm_campaign: "String",
  utm_term: "String",
  utm_content: "String",
  device_type: "LowCardinality(String)",
  browser: "LowCardinality(String)",
  browser_version: "LowCardinality(String)",
  os: "LowCardinality(String)",
  os_version: "LowCardinality(String)",
  screen_resolution: "LowCardinality(String)",
  language: "LowCardinality(String)",
  country: "LowCardinality(String)",
  region: "LowCardinality(String)",
  city: "LowCardinality(String)",
  is_bot: "Bool",
  version: "UInt32",
} as const;

/** Every column of ClickHouse `session_log` (0004_session_log.sql): a session row and its sign. */
export const SESSION_LOG_COLUMNS = { ...SESSION_COLUMNS, sign: "Int8" } as const;

export type SessionRow = Record<keyof typeof SESSION_COLUMNS, string | number | boolean>;
export type SessionLogRow = SessionRow & { sign: 1 | -1 };

/** One session as its `sessions` row (ReplacingMergeTree: the highest version of a session wins). */
export function toSessionRow(s: Session): SessionRow {
  return {
    session_id: s.session_id,
    property_id: s.property_id,
    client_id: s.client_id,
    opened_at: toClickHouseDateTime(s.opened_at),
    started_at: toClickHouseDateTime(s.started_at),
    last_event_at: toClickHouseDateTime(s.last_event_at),
    pageviews: s.pageviews,
    events: s.events,
    interactive_events: s.interactive_events,
    is_bounce: isBounce(s),
    duration: durationSeconds(s),
    entry_page: s.entry_page,
    exit_page: s.exit_page,
    hostname: s.hostname,
    referrer_host: s.referrer_host,
    source: s.source,
    channel: s.channel,
    utm_source: s.utm_source,
    utm_medium: s.utm_medium,
    utm_campaign: s.utm_campaign,
    utm_term: s.utm_term,
    utm_content: s.utm_content,
    device_type: s.device_type,
    browser: s.browser,
    browser_version: s.browser_version,
    os: s.os,
    os_version: s.os_version,
    screen_resolution: s.screen_resolution,
    language: s.language,
    country: s.country,
    region: s.region,
    city: s.city,
    is_bot: s.is_bot,
    version: s.version,
  };
}

/**
 * One `session_log` row: a session state entering (+1) or leaving (-1) the projection. Summing any
 * column times `sign` over the log gives its sum over the sessions' latest versions.
 */
export function toSessionLogRow(s: Session, sign: 1 | -1): SessionLogRow {
  return { ...toSessionRow(s), sign };
}

/**
 * The rows that bring session_log up to a session's current state, given what the log holds for it
 * (its net +1 row, if any): nothing when the logged version is current, else cancel and replace.
 * Used on redelivery, when a first delivery reached the actors but not ClickHouse.
 */
export function resyncRows(current: readonly Session[], logged: readonly SessionLogRow[]): SessionLogRow[] {
  const byId = new Map(logged.map((r) => [String(r.session_id), r]));
  return current.flatMap((s) => {
    const row = byId.get(s.session_id);
    if (row && Number(row.version) >= s.version) return [];
    return row ? [{ ...row, sign: -1 as const }, toSessionLogRow(s, 1)] : [toSessionLogRow(s, 1)];
  });
}

/**
 * What `session_log` nets to for these sessions: one +1 row per logged version (a redelivery's
 * resync compares it with the actors' state). Rows of one version are identical, so grouping by
 * every column nets each version's signs.
 */
export function loggedSessionsStatement(sessions: readonly Session[]) {
  const columns = Object.keys(SESSION_COLUMNS).join(", ");
  return {
    sql: `SELECT ${columns}, toInt8(sum(sign)) AS sign FROM session_log WHERE property_id IN {p:Array(String)} AND opened_at >= fromUnixTimestamp64Milli({from:Int64}, 'UTC') AND session_id IN {ids:Array(String)} GROUP BY ${columns} HAVING sign > 0`,
    params: {
      p: [...new Set(sessions.map((s) => s.property_id))],
      from: Math.min(...sessions.map((s) => s.opened_at)),
      ids: sessions.map((s) => s.session_id),
    },
  };
}

/** The key the consumer's once-only check compares: event ids are unique within a property only. */
export const storedEventKey = (propertyId: string, eventId: string) => `${propertyId}|${eventId}`;

/**
 * Which of these events the events table holds already (rows of `property_id`, `event_id`, compared
 * as storedEventKey). The consumer asks it of every run before the actors, so an event stored once
 * (an import run again, a redelivery in any grouping, a replay's rows) is neither sessionised nor
 * written again. It must stay a primary-key read — ORDER BY (property_id, event_timestamp,
 * client_id): the (property, time) pairs go in as a set, which the index and the day partitions
 * turn into exactly the granules that can hold them (min/max ranges, one per property, were read
 * as hundreds of OR-ed conditions: 3 s for 1,000 events of 100 properties). An event's timestamp
 * is fixed once accepted (the message, the archive and the row carry the same millisecond), so a
 * stored copy lies at its redelivery's pair. Callers pass slices of ≤ 1,000 events.
 */
export function storedEventIdsStatement(events: readonly Event[]) {
  return {
    sql: "SELECT DISTINCT property_id, event_id FROM events WHERE (property_id, event_timestamp) IN (SELECT pt.1, pt.2 FROM (SELECT arrayJoin(arrayZip({p:Array(String)}, {t:Array(DateTime64(3, 'UTC'))})) AS pt)) AND event_id IN {ids:Array(String)}",
    params: {
      p: events.map((e) => e.property_id),
      t: events.map((e) => toClickHouseDateTime(e.event_timestamp)),
      ids: [...new Set(events.map((e) => e.event_id))],
    },
  };
}
