/** Writes event rows to ClickHouse `events` with the official web client (works in Workers and Node). */
import { ClickHouseError } from "@clickhouse/client-web";
import type { EventRow, SessionRow } from "../core/clickhouse-row.ts";
import type { Config } from "../core/config.ts";
import { clickHouseClient } from "../workers/clickhouse.ts";

/** Where the consumer puts rows; one insert per call, idempotent for a repeated token. */
export interface EventSink {
  insert(rows: readonly EventRow[], dedupToken: string): Promise<void>;
  /** Session rows (ReplacingMergeTree by version): rewriting a row is harmless. */
  insertSessions(rows: readonly SessionRow[], dedupToken: string): Promise<void>;
}

/** True when ClickHouse itself refused the data (retrying the same rows cannot help). */
export function isRejectedByClickHouse(error: unknown): boolean {
  return error instanceof ClickHouseError;
}

/** The production sink: synchronous inserts (no async_insert, so an ack means the rows are stored). */
export function createClickHouseSink(config: Config): EventSink {
  const client = clickHouseClient(config);
  const write = async (table: string, values: readonly (EventRow | SessionRow)[], dedupToken: string) => {
    await client.insert({
      table,
      values: [...values],
      format: "JSONEachRow",
      clickhouse_settings: {
        insert_deduplication_token: dedupToken,
        async_insert: 0,
        // Imports and late events can span many days; each day is a partition (the default cap is 100).
        max_partitions_per_insert_block: "0",
      },
    });
  };
  return {
    insert: (rows, dedupToken) => write("events", rows, dedupToken),
    insertSessions: (rows, dedupToken) => write("sessions", rows, dedupToken),
  };
}
