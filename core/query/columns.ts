/**
 * The query language's dimensions as columns of the raw tables: the SQL builder's identifier
 * whitelists (core/query/sql.ts), held to the migrated tables by a contract test. Pure data.
 */
import type { PlainDimension } from "./spec.ts";

/** Dimension → column of `events` (acquisition dimensions are not on events: null). */
export const EVENT_COLUMNS: Record<PlainDimension, string | null> = {
  "event:page": "page_path",
  "event:name": "event_type",
  "event:hostname": "page_host",
  "visit:entry_page": null,
  "visit:exit_page": null,
  "visit:source": null,
  "visit:referrer": null,
  "visit:channel": null,
  "visit:utm_source": null,
  "visit:utm_medium": null,
  "visit:utm_campaign": null,
  "visit:utm_term": null,
  "visit:utm_content": null,
  "visit:device": "device_type",
  "visit:browser": "browser",
  "visit:browser_version": "browser_version",
  "visit:os": "os",
  "visit:os_version": "os_version",
  "visit:country": "country",
  "visit:region": "region",
  "visit:city": "city",
  "visit:language": "language",
  "visit:screen": "screen_resolution",
  "visit:visitor_type": null,
};

/** Dimension → column of `sessions` (event-only dimensions: null). */
export const SESSION_COLUMNS: Record<PlainDimension, string | null> = {
  ...EVENT_COLUMNS,
  "event:page": null,
  "event:name": null,
  "event:hostname": null,
  "visit:entry_page": "entry_page",
  "visit:exit_page": "exit_page",
  "visit:source": "source",
  "visit:referrer": "referrer_host",
  "visit:channel": "channel",
  "visit:utm_source": "utm_source",
  "visit:utm_medium": "utm_medium",
  "visit:utm_campaign": "utm_campaign",
  "visit:utm_term": "utm_term",
  "visit:utm_content": "utm_content",
  "visit:visitor_type": "visitor_type",
};

/**
 * Session columns no table stores: computed per query (core/query/visitor-type.ts wraps
 * `sessions` to add them), so the contract test does not look for them in the migrations.
 */
export const DERIVED_SESSION_COLUMNS: readonly string[] = ["visitor_type"];

/** The whitelists, for the contract test that holds them to the migrated tables. */
export const DIMENSION_COLUMNS = { events: EVENT_COLUMNS, sessions: SESSION_COLUMNS } as const;

/**
 * The ids' 64-bit hashes the tables store (migration 0012, MATERIALIZED): funnels and retention
 * group visitors by `visitor_hash`, filters semi-join sessions on `session_hash`. Two of 10M ids
 * share a hash with odds of ~3 in 10^6.
 */
export const HASH_COLUMNS = {
  events: { visitor: "visitor_hash", session: "session_hash" },
  sessions: { session: "session_hash" },
} as const;
