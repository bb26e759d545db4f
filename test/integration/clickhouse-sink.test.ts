/** consumers/clickhouse-sink.ts against the real engine: rows land, retries do not duplicate, errors surface. */
import { ClickHouseError } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { createClickHouseSink, type EventSink, isRejectedByClickHouse } from "../../consumers/clickhouse-sink.ts";
import { type EventRow, toClickHouseRow } from "../../core/clickhouse-row.ts";
import { ConfigSchema } from "../../core/config.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";
import { makeEvent } from "../support/events.ts";

let sink: EventSink;
let query: <T>(sql: string) => Promise<T[]>;

const row = (n: number): EventRow =>
  toClickHouseRow(
    makeEvent({
      client_id: `c${n}`,
      event_id: `e${n}`,
      event_timestamp: Date.UTC(2026, 10, 26, 9, 0, n),
      page_url: `https://example.com/${n}`,
      custom_dimensions: { plan: "pro" },
      custom_metrics: { value: n },
    }),
    Date.UTC(2026, 10, 26, 9, 1),
  );

beforeAll(async () => {
  const { client, database, url } = await freshDatabase("sink");
  sink = createClickHouseSink(ConfigSchema.parse({ CLICKHOUSE_URL: url, CLICKHOUSE_DATABASE: database }));
  query = (sql) => rows(client, sql);
});

describe("ClickHouse sink", () => {
  it("writes a batch of rows with every column intact", async () => {
    await sink.insert([row(1), row(2)], "t-write");
    const stored = await query<Record<string, unknown>>(
      "SELECT * FROM events WHERE event_id IN ('e1','e2') ORDER BY event_id",
    );
    expect(stored).toHaveLength(2);
    expect(stored[0]).toMatchObject({
      event_id: "e1",
      event_timestamp: "2026-11-26 09:00:01.000",
      custom_dimensions: { plan: "pro" },
      custom_metrics: { value: 1 },
    });
  });

  it("does not duplicate rows when a batch is redelivered with the same token", async () => {
    const batch = [row(10), row(11), row(12)];
    await sink.insert(batch, "t-redeliver");
    await sink.insert(batch, "t-redeliver");
    const [count] = await query<{ c: string }>("SELECT count() AS c FROM events WHERE event_id IN ('e10','e11','e12')");
    expect(count?.c).toBe("3");
  });

  it("surfaces ClickHouse's own error for rows it refuses", async () => {
    const bad = { ...row(20), event_timestamp: "not a time" };
    const error = await sink.insert([bad], "t-bad").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClickHouseError);
    expect(isRejectedByClickHouse(error)).toBe(true);
    expect((error as ClickHouseError).message).toContain("event_timestamp");
  });

  it("treats an unreachable server as retryable, not as refused data", async () => {
    const unreachable = createClickHouseSink(ConfigSchema.parse({ CLICKHOUSE_URL: "http://127.0.0.1:9" }));
    const error = await unreachable.insert([row(30)], "t-down").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isRejectedByClickHouse(error)).toBe(false);
  });
});
