/**
 * The query engine's whitelists held to the migrated tables: every column a dimension maps to
 * exists, and the rollups are keyed by exactly the dimensions the planner sends to them.
 */
import type { ClickHouseClient } from "@clickhouse/client-web";
import { beforeAll, expect, it } from "vitest";
import { toClickHouseRow, toSessionLogRow } from "../../core/clickhouse-row.ts";
import { DERIVED_SESSION_COLUMNS } from "../../core/query/columns.ts";
import { GOAL_ROLLUP_DIMENSIONS } from "../../core/query/goal-rollup.ts";
import { EVENT_ROLLUP_DIMENSIONS, SESSION_ROLLUP_DIMENSIONS } from "../../core/query/plan.ts";
import { DIMENSION_COLUMNS } from "../../core/query/sql.ts";
import { advanceSession, EMPTY_VISITOR } from "../../core/session/session.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

let client: ClickHouseClient;
let database: string;

beforeAll(async () => {
  ({ client, database } = await freshDatabase("qcontract"));
});

async function columns(table: string): Promise<string[]> {
  const found = await rows<{ name: string }>(
    client,
    "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
    { db: database, t: table },
  );
  return found.map((c) => c.name);
}

it.each(["events", "sessions"] as const)("every dimension column of %s exists in the table", async (table) => {
  const have = await columns(table);
  // Derived columns (visitor_type) are computed per query, not stored.
  const named = Object.values(DIMENSION_COLUMNS[table]).filter(
    (c): c is string => c !== null && !DERIVED_SESSION_COLUMNS.includes(c),
  );
  expect(named.length).toBeGreaterThan(5);
  expect(named.filter((c) => !have.includes(c))).toEqual([]);
});

it("the rollups are keyed by exactly the planner's rollup dimensions", async () => {
  const event = makeEvent({ property_id: "UA-CONTRACT-1", event_id: "k1" });
  const session = advanceSession(EMPTY_VISITOR, event).state.session;
  if (!session) throw new Error("no session");
  await client.insert({
    table: "events",
    values: [toClickHouseRow(event, Date.now(), session.session_id)],
    format: "JSONEachRow",
  });
  await client.insert({ table: "session_log", values: [toSessionLogRow(session, 1)], format: "JSONEachRow" });
  const dims = async (table: string) =>
    (await rows<{ dim: string }>(client, `SELECT DISTINCT dim FROM ${table} ORDER BY dim`)).map((r) => r.dim);
  for (const table of ["events_rollup", "events_rollup_days"])
    expect(await dims(table)).toEqual(
      ["", ...EVENT_ROLLUP_DIMENSIONS, ...Object.values(GOAL_ROLLUP_DIMENSIONS)].sort(),
    );
  for (const table of ["sessions_rollup", "sessions_rollup_days"])
    expect(await dims(table)).toEqual(["", ...SESSION_ROLLUP_DIMENSIONS].sort());
});
