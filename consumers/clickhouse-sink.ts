/** Writes event rows to ClickHouse `events` with the official web client (works in Workers and Node). */
import { ClickHouseError } from "@clickhouse/client-web";
import type { EventRow } from "../core/clickhouse-row.ts";
import type { Config } from "../core/config.ts";
import { clickHouseClient } from "../workers/clickhouse.ts";

/** Where the consumer puts rows; one insert per call, idempotent for a repeated token. */
export interface EventSink {
  insert(rows: readonly EventRow[], dedupToken: string): Promise<void>;
}

/** True when ClickHouse itself refused the data (retrying the same rows cannot help). */
export function isRejectedByClickHouse(error: unknown): boolean {
  return error instanceof ClickHouseError;
}

/** The production sink: synchronous inserts (no async_insert, so an ack means the rows are stored). */
export function createClickHouseSink(config: Config): EventSink {
  const client = clickHouseClient(config);
  return {
    async insert(rows, dedupToken) {
      await client.insert({
        table: "events",
        values: [...rows],
        format: "JSONEachRow",
        clickhouse_settings: {
          insert_deduplication_token: dedupToken,
          async_insert: 0,
          // Imports and late events can span many days; each day is a partition (the default cap is 100).
          max_partitions_per_insert_block: "0",
        },
      });
    },
  };
}
