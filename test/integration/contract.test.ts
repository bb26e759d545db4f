/** The event schema, the row converter and the SQL table must describe the same columns. */
import { describe, expect, it } from "vitest";
import { DERIVED_COLUMNS, EVENT_COLUMNS, SESSION_COLUMNS, SESSION_LOG_COLUMNS } from "../../core/clickhouse-row.ts";
import { EventSchema } from "../../core/event.ts";
import { HASH_COLUMNS } from "../../core/query/columns.ts";
import { SessionSchema } from "../../core/session/session.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

type Described = { name: string; type: string; default_type: string; default_expression: string };
/** The columns writers send; MATERIALIZED ones (the ids' hashes, HASH_COLUMNS) are computed on insert. */
const stored = (d: Described[]) => d.filter((c) => c.default_type !== "MATERIALIZED").map((c) => [c.name, c.type]);
const hashes = (d: Described[]) =>
  d
    .filter((c) => c.default_type === "MATERIALIZED" && c.default_expression.startsWith("cityHash64("))
    .map((c) => [c.name, c.type]);

describe("contract: events table ⇔ core/event.ts", () => {
  it("has exactly the columns and types of EVENT_COLUMNS, in order", async () => {
    const { client } = await freshDatabase("contract");
    const described = await rows<Described>(client, "DESCRIBE TABLE events");
    expect(stored(described)).toEqual(Object.entries(EVENT_COLUMNS));
    expect(hashes(described)).toEqual(Object.values(HASH_COLUMNS.events).map((c) => [c, "UInt64"]));
  });

  it("has a column for every event field, and no column that is neither a field nor derived", () => {
    const fields = Object.keys(EventSchema.shape).sort();
    const columns = Object.keys(EVENT_COLUMNS).filter((c) => !(DERIVED_COLUMNS as readonly string[]).includes(c));
    expect(columns.sort()).toEqual(fields);
  });

  it("has a sessions table with exactly SESSION_COLUMNS, covering every session field", async () => {
    const { client } = await freshDatabase("contract");
    const described = await rows<Described>(client, "DESCRIBE TABLE sessions");
    expect(stored(described)).toEqual(Object.entries(SESSION_COLUMNS));
    expect(hashes(described)).toEqual(Object.values(HASH_COLUMNS.sessions).map((c) => [c, "UInt64"]));
    const derived = ["is_bounce", "duration"];
    const fromState = Object.keys(SESSION_COLUMNS)
      .filter((c) => !derived.includes(c))
      .sort();
    const stateFields = Object.keys(SessionSchema.shape)
      .filter((f) => !["entry_at", "exit_at"].includes(f))
      .sort();
    expect(fromState).toEqual(stateFields);
  });

  it("has a session_log table with exactly SESSION_LOG_COLUMNS: the sessions columns, then sign", async () => {
    const { client } = await freshDatabase("contract");
    const described = await rows<{ name: string; type: string }>(client, "DESCRIBE TABLE session_log");
    expect(described.map(({ name, type }) => [name, type])).toEqual(Object.entries(SESSION_LOG_COLUMNS));
    expect(Object.entries(SESSION_LOG_COLUMNS)).toEqual([...Object.entries(SESSION_COLUMNS), ["sign", "Int8"]]);
  });

  it("fills every sessions column from session_log through the view sessions_from_log", async () => {
    const { client } = await freshDatabase("contract");
    const described = await rows<{ name: string; type: string }>(client, "DESCRIBE TABLE sessions_from_log");
    expect(described.map(({ name, type }) => [name, type])).toEqual(Object.entries(SESSION_COLUMNS));
  });
});
