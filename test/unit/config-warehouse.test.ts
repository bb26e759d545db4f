/** The warehouse's settings are parsed once, at the edge of the configuration: bad values name themselves. */
import { describe, expect, it } from "vitest";
import { ConfigSchema } from "../../core/config.ts";

const base = { CLICKHOUSE_URL: "http://127.0.0.1:8123" };

describe("Config: the warehouse", () => {
  it("takes a PostgreSQL-protocol URL, or empty for none", () => {
    for (const url of ["postgres://tally:tally@127.0.0.1:5439/tally", "postgresql://u:p@cluster.redshift:5439/db", ""])
      expect(ConfigSchema.parse({ ...base, WAREHOUSE_URL: url }).WAREHOUSE_URL).toBe(url);
    expect(ConfigSchema.parse(base).WAREHOUSE_URL).toBe("");
  });

  it("refuses any other URL, naming the setting", () => {
    for (const url of ["http://127.0.0.1:5439", "mysql://u@h/db", "127.0.0.1:5439"]) {
      const result = ConfigSchema.safeParse({ ...base, WAREHOUSE_URL: url });
      expect(result.success, url).toBe(false);
      expect(result.error?.issues[0]?.path).toEqual(["WAREHOUSE_URL"]);
    }
  });

  it("takes WAREHOUSE_LOAD_START as a calendar date or empty", () => {
    expect(ConfigSchema.parse({ ...base, WAREHOUSE_LOAD_START: "2026-01-01" }).WAREHOUSE_LOAD_START).toBe("2026-01-01");
    expect(ConfigSchema.parse(base).WAREHOUSE_LOAD_START).toBe("");
    for (const day of ["2026-13-01", "1 Jan 2026", "2026-01-01T00:00:00Z"])
      expect(ConfigSchema.safeParse({ ...base, WAREHOUSE_LOAD_START: day }).success, day).toBe(false);
  });
});
