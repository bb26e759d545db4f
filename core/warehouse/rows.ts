/**
 * ClickHouse rows → warehouse rows: the one conversion, so the two stores hold the same events and
 * sessions (the load job writes what the replay step computes for ClickHouse, core/replay/replay.ts).
 */
import type { EventRow, SessionRow } from "../clickhouse-row.ts";
import type { WarehouseEventRow, WarehouseSessionRow } from "./schema.ts";

/** `2026-11-26 09:30:00.123` (UTC, ClickHouse's text form) → Date. */
export const fromClickHouseDateTime = (text: string): Date => new Date(`${text.replace(" ", "T")}Z`);

export function toWarehouseEventRow(row: EventRow): WarehouseEventRow {
  return {
    ...row,
    event_timestamp: fromClickHouseDateTime(row.event_timestamp),
    received_at: fromClickHouseDateTime(row.received_at),
    custom_dimensions: JSON.stringify(row.custom_dimensions),
    custom_metrics: JSON.stringify(row.custom_metrics),
  };
}

export function toWarehouseSessionRow(row: SessionRow): WarehouseSessionRow {
  const text = (v: string | number | boolean) => String(v);
  const int = (v: string | number | boolean) => Number(v);
  return {
    session_id: text(row.session_id),
    property_id: text(row.property_id),
    client_id: text(row.client_id),
    opened_at: fromClickHouseDateTime(text(row.opened_at)),
    started_at: fromClickHouseDateTime(text(row.started_at)),
    last_event_at: fromClickHouseDateTime(text(row.last_event_at)),
    pageviews: int(row.pageviews),
    events: int(row.events),
    interactive_events: int(row.interactive_events),
    is_bounce: Boolean(row.is_bounce),
    duration: int(row.duration),
    entry_page: text(row.entry_page),
    exit_page: text(row.exit_page),
    hostname: text(row.hostname),
    referrer_host: text(row.referrer_host),
    source: text(row.source),
    channel: text(row.channel),
    utm_source: text(row.utm_source),
    utm_medium: text(row.utm_medium),
    utm_campaign: text(row.utm_campaign),
    utm_term: text(row.utm_term),
    utm_content: text(row.utm_content),
    device_type: text(row.device_type),
    browser: text(row.browser),
    browser_version: text(row.browser_version),
    os: text(row.os),
    os_version: text(row.os_version),
    screen_resolution: text(row.screen_resolution),
    language: text(row.language),
    country: text(row.country),
    region: text(row.region),
    city: text(row.city),
    is_bot: Boolean(row.is_bot),
    version: int(row.version),
  };
}
