/** The warehouse's tables (migrations/warehouse) must be what core/warehouse/schema.ts says, and events/sessions what ClickHouse holds. */
import pg from "pg";
import { describe, expect, it } from "vitest";
import { EVENT_COLUMNS, SESSION_COLUMNS } from "../../core/clickhouse-row.ts";
import { type ColumnKind, kindOfClickHouseType, WAREHOUSE_TABLES } from "../../core/warehouse/schema.ts";
import { freshWarehouse } from "../support/warehouse.ts";

/** information_schema's data_type → the schema's portable kinds. */
const KIND_OF: Record<string, ColumnKind> = {
  "character varying": "text",
  "timestamp without time zone": "timestamp",
  date: "date",
  boolean: "boolean",
  bigint: "bigint",
  integer: "integer",
  json: "json",
};

const expected: Record<string, [string, ColumnKind, boolean][]> = {
  events: Object.entries(EVENT_COLUMNS).map(([c, t]) => [c, kindOfClickHouseType(t), false]),
  sessions: Object.entries(SESSION_COLUMNS).map(([c, t]) => [c, kindOfClickHouseType(t), false]),
  ...Object.fromEntries(
    Object.entries(WAREHOUSE_TABLES).map(([table, columns]) => [
      table,
      Object.entries(columns).map(([c, def]): [string, ColumnKind, boolean] =>
        typeof def === "string" ? [c, def as ColumnKind, false] : [c, def.kind, true],
      ),
    ]),
  ),
};

describe("contract: warehouse tables ⇔ core/warehouse/schema.ts", () => {
  it("has every table with exactly its columns, kinds and nullability, in order", async () => {
    const client = new pg.Client({ connectionString: await freshWarehouse("contract") });
    await client.connect();
    try {
      const { rows } = await client.query<{
        table_name: string;
        column_name: string;
        data_type: string;
        is_nullable: string;
      }>(
        `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
        [Object.keys(expected)],
      );
      const actual: Record<string, [string, ColumnKind | string, boolean][]> = {};
      for (const r of rows) {
        const columns = actual[r.table_name] ?? [];
        columns.push([r.column_name, KIND_OF[r.data_type] ?? r.data_type, r.is_nullable === "YES"]);
        actual[r.table_name] = columns;
      }
      expect(actual).toEqual(expected);
    } finally {
      await client.end();
    }
  });
});
