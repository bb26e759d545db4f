/** The Redshift variants of the warehouse DDL must declare the same columns as the PostgreSQL ones the tests run. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const file = readFileSync(new URL("../../migrations/warehouse/0001_events_sessions.sql", import.meta.url), "utf8");

/** The column names of each `-- target: <engine>` CREATE TABLE events statement. */
function eventColumns(target: "postgres" | "redshift"): string[] {
  const start = file.indexOf(`-- target: ${target}\nCREATE TABLE IF NOT EXISTS events`);
  expect(start, `a ${target} CREATE TABLE events`).toBeGreaterThanOrEqual(0);
  const body = file.slice(file.indexOf("(", start) + 1, file.indexOf("\n)", start));
  return body
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0] ?? "")
    .filter((name) => /^[a-z_]+$/.test(name));
}

describe("warehouse DDL: PostgreSQL and Redshift", () => {
  it("declares the same events columns in the same order on both engines", () => {
    const postgres = eventColumns("postgres");
    expect(postgres.length).toBeGreaterThan(40);
    expect(eventColumns("redshift")).toEqual(postgres);
  });
});
