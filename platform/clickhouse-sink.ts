/** Writes event rows to ClickHouse `events` and session changes to `session_log` with the official web client (works in Workers and Node). */
import { ClickHouseError } from "@clickhouse/client-web";
import {
  type EventRow,
  loggedSessionsStatement,
  type SessionLogRow,
  storedEventIdsStatement,
  storedEventKey,
} from "../core/clickhouse-row.ts";
import type { Config } from "../core/config.ts";
import type { Event } from "../core/event.ts";
import { parseTime } from "../core/ops/metrics.ts";
import type { Session } from "../core/session/session.ts";
import { clickHouseClient, insertSettings } from "./clickhouse.ts";
import { observeMetric, timed } from "./ops-metrics.ts";

/** Where the consumer puts rows; one insert per call, idempotent for a repeated token. */
export interface EventSink {
  insert(rows: readonly EventRow[], dedupToken: string): Promise<void>;
  /** Session changes (-1 the state before, +1 the state after); `sessions` follows by a materialized view. */
  insertSessionLog(rows: readonly SessionLogRow[], dedupToken: string): Promise<void>;
  /** What session_log nets to for these sessions: one +1 row per logged session (for a redelivery's resync). */
  loggedSessions(sessions: readonly Session[]): Promise<SessionLogRow[]>;
  /** Which of these events the events table holds already, as storedEventKey (the consumer's once-only check). */
  storedEventIds(events: readonly Event[]): Promise<Set<string>>;
}

const INSERT = { op: "insert" } as const;
const SELECT = { op: "select" } as const;

/**
 * Processing lag: each stored event's edge receipt (`received_at`) to now, its row inserted. Rows
 * of one queue message share their receipt time, so a batch is a few observations.
 */
function observeProcessingLag(rows: readonly EventRow[], now: number): void {
  const byReceipt = new Map<string, number>();
  for (const r of rows) byReceipt.set(r.received_at, (byReceipt.get(r.received_at) ?? 0) + 1);
  for (const [receivedAt, n] of byReceipt) observeMetric("processing_lag_ms", now - parseTime(receivedAt), {}, n);
}

/** Events per stored-ids query (its ids travel as a multipart body, not in the URL). */
const STORED_CHECK_SLICE = 1_000;

/** True when ClickHouse itself refused the data (retrying the same rows cannot help). */
export function isRejectedByClickHouse(error: unknown): boolean {
  return error instanceof ClickHouseError;
}

/** The production sink: synchronous inserts (no async_insert, so an ack means the rows are stored). */
export function createClickHouseSink(config: Config): EventSink {
  const client = clickHouseClient(config);
  const cluster = insertSettings(config);
  const write = async (table: string, values: readonly (EventRow | SessionLogRow)[], dedupToken: string) => {
    await timed("clickhouse_ms", "clickhouse_errors", INSERT, () => insert(table, values, dedupToken));
  };
  const insert = async (table: string, values: readonly (EventRow | SessionLogRow)[], dedupToken: string) => {
    await client.insert({
      table,
      values: [...values],
      format: "JSONEachRow",
      clickhouse_settings: {
        insert_deduplication_token: dedupToken,
        // A retried insert must be deduplicated in materialized views' targets too (session_log →
        // sessions, rollups), also when the first try reached the table but failed in a view.
        // Recent ClickHouse defaults to 1; with 0, ClickHouse 26 re-inserts into the target.
        deduplicate_blocks_in_dependent_materialized_views: 1,
        async_insert: 0,
        // Imports and late events can span many days; each day is a partition (the default cap is 100).
        max_partitions_per_insert_block: "0",
        // On a cluster: the Distributed insert answers once the shards hold the rows, and a retry
        // is deduplicated there by the token (core/clickhouse/cluster.ts).
        ...cluster,
      },
    });
  };
  return {
    async insert(rows, dedupToken) {
      await write("events", rows, dedupToken);
      observeProcessingLag(rows, Date.now());
    },
    insertSessionLog: (rows, dedupToken) => write("session_log", rows, dedupToken),
    async loggedSessions(sessions) {
      if (sessions.length === 0) return [];
      const statement = loggedSessionsStatement(sessions);
      return timed("clickhouse_ms", "clickhouse_errors", SELECT, async () => {
        const result = await client.query({
          query: statement.sql,
          query_params: statement.params,
          format: "JSONEachRow",
          clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
        });
        return result.json<SessionLogRow>();
      });
    },
    async storedEventIds(events) {
      const stored = new Set<string>();
      // By property and time, so each slice touches few granules.
      const ordered = [...events].sort((a, b) =>
        a.property_id === b.property_id
          ? a.event_timestamp - b.event_timestamp
          : a.property_id < b.property_id
            ? -1
            : 1,
      );
      for (let i = 0; i < ordered.length; i += STORED_CHECK_SLICE) {
        const statement = storedEventIdsStatement(ordered.slice(i, i + STORED_CHECK_SLICE));
        const found = await timed("clickhouse_ms", "clickhouse_errors", SELECT, async () => {
          const result = await client.query({
            query: statement.sql,
            query_params: statement.params,
            // A thousand ids are ~45 KB of parameters: past a URL's usual limit (16 KB at Cloudflare, Node).
            use_multipart_params: true,
            format: "JSONEachRow",
          });
          return result.json<{ property_id: string; event_id: string }>();
        });
        for (const r of found) stored.add(storedEventKey(r.property_id, r.event_id));
      }
      return stored;
    },
  };
}
