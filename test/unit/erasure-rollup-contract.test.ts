/**
 * The erasure rebuilds a day's rollups with its own copy of the rollup views' SELECT
 * (core/privacy/erasure-clickhouse.ts): held here equal to the latest migration that defines each
 * view, so a changed view cannot leave erased days rebuilt the old way.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  EVENTS_ROLLUP_SELECT,
  ROLLUP_GROUP_BY,
  SESSIONS_ROLLUP_SELECT,
} from "../../core/privacy/erasure-clickhouse.ts";

const DIR = new URL("../../migrations/clickhouse/", import.meta.url);
const squash = (sql: string) =>
  sql
    .replace(/--[^\n]*/g, "")
    .replace(/\s+/g, " ")
    .trim();

/** The SELECT of the last `CREATE MATERIALIZED VIEW <name> TO <target> AS` across the migrations. */
function latestView(name: string): string {
  let found = "";
  for (const file of readdirSync(DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const text = squash(readFileSync(new URL(file, DIR), "utf8"));
    const at = text.lastIndexOf(`CREATE MATERIALIZED VIEW ${name} `);
    if (at < 0) continue;
    const body = text.slice(at, text.indexOf(";", at));
    found = body.slice(body.indexOf(" AS SELECT ") + 4);
  }
  return found;
}

describe("the erasure's rollup rebuild", () => {
  it.each([
    ["events_rollup_mv", EVENTS_ROLLUP_SELECT],
    ["sessions_rollup_mv", SESSIONS_ROLLUP_SELECT],
  ])("selects exactly what %s selects", (view, select) => {
    const migration = latestView(view);
    expect(migration).not.toBe("");
    expect(squash(`${select} ${ROLLUP_GROUP_BY}`)).toBe(migration);
  });
});
