/**
 * The one place where an event becomes a ClickHouse `events` row. The column list here is the
 * contract that the migrations must match (checked by test/integration/contract.test.ts).
 */
import type { Event } from "./event.ts";

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
} as const;

/** Columns that are not event fields: filled by later stages of the pipeline. */
export const DERIVED_COLUMNS = ["session_id", "received_at"] as const;

export type EventRow = {
  [K in keyof typeof EVENT_COLUMNS]: K extends "custom_dimensions"
    ? Record<string, string>
    : K extends "custom_metrics"
      ? Record<string, number>
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
  };
}
