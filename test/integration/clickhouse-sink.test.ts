/**
 * platform/clickhouse-sink.ts against the real engine: rows land, retries do not duplicate (in
 * session_log nor in `sessions` behind its materialized view), errors surface.
 */
import { ClickHouseError } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { type EventRow, toClickHouseRow, toSessionLogRow } from "../../core/clickhouse-row.ts";
import { ConfigSchema } from "../../core/config.ts";
import { advanceSession, EMPTY_VISITOR, type Session } from "../../core/session/session.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { createClickHouseSink, type EventSink, isRejectedByClickHouse } from "../../platform/clickhouse-sink.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

let sink: EventSink;
let query: <T>(sql: string) => Promise<T[]>;
let command: (sql: string) => Promise<void>;

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
  command = async (sql) => {
    await client.command({ query: sql });
  };
});

/** A visitor's session after `n` pageviews. */
function session(clientId: string, n: number): Session {
  let state = EMPTY_VISITOR;
  for (let i = 0; i < n; i++) {
    const e = makeEvent({
      client_id: clientId,
      event_id: `${clientId}-${i}`,
      event_timestamp: Date.UTC(2026, 10, 26, 9, i),
    });
    state = advanceSession(state, e).state;
  }
  return state.session ?? expect.fail();
}

async function logged(clientId: string) {
  const [log] = await query<{ rows: string; net: string; pageviews: string }>(
    `SELECT count() AS rows, sum(sign) AS net, sum(sign * pageviews) AS pageviews FROM session_log WHERE client_id = '${clientId}'`,
  );
  const sessions = await query<{ version: number; pageviews: number }>(
    `SELECT version, pageviews FROM sessions WHERE client_id = '${clientId}' ORDER BY version`,
  );
  return { log, sessions };
}

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

  it("logs session changes and projects the +1 rows into sessions, once even when retried", async () => {
    const [one, two] = [session("s1", 1), session("s1", 2)];
    await sink.insertSessionLog([toSessionLogRow(one, 1)], "t-log-1");
    const change = [toSessionLogRow(one, -1), toSessionLogRow(two, 1)];
    await sink.insertSessionLog(change, "t-log-2");
    await sink.insertSessionLog(change, "t-log-2");
    expect(await logged("s1")).toEqual({
      log: { rows: "3", net: "1", pageviews: "2" },
      sessions: [
        { version: 1, pageviews: 1 },
        { version: 2, pageviews: 2 },
      ],
    });
  });

  it("deduplicates a retry in sessions too when the first try stored the log rows but failed in the view", async () => {
    await command("ALTER TABLE sessions ADD CONSTRAINT refuse_s2 CHECK client_id != 's2'");
    const rows = [toSessionLogRow(session("s2", 1), 1)];
    const error = await sink.insertSessionLog(rows, "t-log-view").catch((e: unknown) => e);
    expect(isRejectedByClickHouse(error)).toBe(true);
    await command("ALTER TABLE sessions DROP CONSTRAINT refuse_s2");
    await sink.insertSessionLog(rows, "t-log-view");
    await sink.insertSessionLog(rows, "t-log-view");
    expect(await logged("s2")).toEqual({
      log: { rows: "1", net: "1", pageviews: "1" },
      sessions: [{ version: 1, pageviews: 1 }],
    });
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
