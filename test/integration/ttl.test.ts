/**
 * ClickHouse forgets on time (issue #17), against the real engine: every table with data has a
 * TTL, the raw user agent goes after RAW_USER_AGENT_DAYS while the row and its parsed fields stay,
 * rows go after the retention period, and configured days reach the DDL once (a second pass
 * issues nothing, since each MODIFY TTL rewrites the table's parts).
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, describe, expect, it } from "vitest";
import { toClickHouseRow } from "../../core/clickhouse-row.ts";
import {
  COLUMN_TTLS,
  columnTtl,
  DEFAULT_RETENTION_DAYS,
  ROW_TTLS,
  TABLE_DDL_SQL,
  tableTtl,
  ttlChanges,
  ttlStatements,
} from "../../core/privacy/ttl.ts";
import { DAY_MS } from "../../core/time.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { readClickHouseMigrations } from "../../migrations/files.ts";
import { splitStatements } from "../../migrations/migrator.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

type Ddl = { name: string; create_table_query: string };
let client: ClickHouseClient;
const ddl = () => rows<Ddl>(client, TABLE_DDL_SQL);

beforeAll(async () => {
  ({ client } = await freshDatabase("ttl"));
});

describe("ClickHouse TTLs", () => {
  it("gives every table with data a row TTL at the retention period; only the migration ledger has none", async () => {
    const tables = await ddl();
    const withoutTtl = tables.filter((t) => tableTtl(t.create_table_query) === null).map((t) => t.name);
    expect(withoutTtl.sort()).toEqual(["schema_migration_steps", "schema_migrations"]);
    expect(tables.map((t) => t.name).sort()).toEqual(
      // The operations tables (0009, 0010) keep their own fixed TTLs, apart from the retention period.
      [...ROW_TTLS.map((t) => t.table), "alerts", "ops_metrics", "schema_migration_steps", "schema_migrations"].sort(),
    );
    const events = tables.find((t) => t.name === "events")?.create_table_query ?? "";
    expect(tableTtl(events)).toBe("toDateTime(event_timestamp) + toIntervalDay(730)");
    expect(columnTtl(events, "user_agent")).toBe("toDateTime(event_timestamp) + toIntervalDay(30)");
    expect(columnTtl(events, "page_url")).toBeNull();
  });

  it("has migration 0008 apply exactly the TTLs the cron compares against, at the default days", () => {
    const migration = readClickHouseMigrations().find((m) => m.name.startsWith("0008_"));
    expect(splitStatements(migration?.sql ?? "")).toEqual(ttlStatements(DEFAULT_RETENTION_DAYS).map((s) => s.sql));
    expect(COLUMN_TTLS.map((c) => c.column)).toEqual(["user_agent"]);
  });

  it("blanks the raw user agent after its days and drops rows after the retention, keeping the rest", async () => {
    const now = Date.now();
    const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    const event = (id: string, ageDays: number) =>
      toClickHouseRow(
        makeEvent({ event_id: id, event_timestamp: now - ageDays * DAY_MS, user_agent: UA, browser: "Firefox" }),
        now,
      );
    await client.insert({
      table: "events",
      values: [event("fresh", 1), event("month-old", 40), event("expired", 800)],
      format: "JSONEachRow",
    });
    // TTLs apply when parts merge; OPTIMIZE … FINAL merges now.
    await client.command({ query: "OPTIMIZE TABLE events FINAL" });
    await client.command({ query: "OPTIMIZE TABLE events_rollup FINAL" });
    expect(
      await rows(client, "SELECT event_id, user_agent, browser FROM events ORDER BY event_timestamp DESC"),
    ).toEqual([
      { event_id: "fresh", user_agent: UA, browser: "Firefox" },
      { event_id: "month-old", user_agent: "", browser: "Firefox" },
    ]);
    const oldest = await rows<{ hour: string }>(client, "SELECT toString(min(hour)) AS hour FROM events_rollup");
    expect(Date.parse(`${oldest[0]?.hour}Z`)).toBeGreaterThan(now - 730 * DAY_MS);
  });

  it("needs no change at the default days, and brings other days into the DDL once", async () => {
    expect(ttlChanges(await ddl(), DEFAULT_RETENTION_DAYS)).toEqual([]);
    const configured = { rows: 400, rawUserAgent: 7 };
    const changes = ttlChanges(await ddl(), configured);
    expect(changes.map((c) => c.column ?? c.table)).toEqual([
      "events",
      "user_agent",
      ...ROW_TTLS.slice(1).map((t) => t.table),
    ]);
    for (const change of changes) await client.command({ query: change.sql });
    expect(ttlChanges(await ddl(), configured)).toEqual([]);
    const events = (await ddl()).find((t) => t.name === "events")?.create_table_query ?? "";
    expect(columnTtl(events, "user_agent")).toBe("toDateTime(event_timestamp) + toIntervalDay(7)");
    // Only the user agent's days change: one statement.
    expect(ttlChanges(await ddl(), { rows: 400, rawUserAgent: 14 }).map((c) => c.sql)).toEqual([
      "ALTER TABLE events MODIFY COLUMN user_agent TTL toDateTime(event_timestamp) + INTERVAL 14 DAY",
    ]);
  });
});
