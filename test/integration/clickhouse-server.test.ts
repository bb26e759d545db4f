/**
 * dev/servers/clickhouse-server.ts: the embedded chDB engine must look like ClickHouse to the unmodified
 * @clickhouse/client-web — values, settings, errors, compression and auth as the real server does.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ClickHouseError, createClient } from "@clickhouse/client-web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningClickHouse, startClickHouseServer } from "../../dev/servers/clickhouse-server.ts";
import { freshDatabase, rows } from "../support/clickhouse.ts";

let url: string;
let client: ReturnType<typeof createClient>;

beforeAll(async () => {
  ({ url, client } = await freshDatabase("server", { migrated: false }));
  await client.command({
    query:
      "CREATE TABLE t (id UInt32, name String, tags Array(String)) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100",
  });
});

describe("the embedded ClickHouse HTTP endpoint", () => {
  it("answers the client's ping and /ping", async () => {
    expect(await createClient({ url }).ping()).toEqual({ success: true });
    const res = await fetch(`${url}/ping`);
    expect(await res.text()).toBe("Ok.\n");
  });

  it("binds {name:Type} parameters exactly as ClickHouse parses them", async () => {
    const [row] = await rows<Record<string, unknown>>(
      client,
      "SELECT {s:String} AS s, {n:UInt32} + 1 AS n, {a:Array(String)} AS a, {m:Map(String, String)} AS m, {d:DateTime64(3)} AS d, {z:Nullable(String)} AS z",
      { s: "it's a \\ back\tslash", n: 41, a: ["x'y", "z"], m: { "k'": "v\\" }, d: "2026-11-26 09:30:00.123", z: null },
    );
    expect(row).toEqual({
      s: "it's a \\ back\tslash",
      n: "42", // UInt64, quoted in JSON as the server does
      a: ["x'y", "z"],
      m: { "k'": "v\\" },
      d: "2026-11-26 09:30:00.123",
      z: null,
    });
  });

  it("takes parameters from a multipart body too", async () => {
    const multipart = createClient({ url, use_multipart_params: true });
    const result = await multipart.query({
      query: "SELECT {v:String} AS v",
      query_params: { v: "o'k" },
      format: "JSONEachRow",
    });
    expect(await result.json()).toEqual([{ v: "o'k" }]);
  });

  it("inserts JSONEachRow rows and deduplicates a repeated insert_deduplication_token", async () => {
    const values = [
      { id: 1, name: "a", tags: ["x"] },
      { id: 2, name: "b", tags: [] },
    ];
    for (let i = 0; i < 3; i++) {
      await client.insert({
        table: "t",
        values,
        format: "JSONEachRow",
        clickhouse_settings: { insert_deduplication_token: "tok-1" },
      });
    }
    await client.insert({
      table: "t",
      values,
      format: "JSONEachRow",
      clickhouse_settings: { insert_deduplication_token: "tok-2" },
    });
    expect(await rows(client, "SELECT count() AS c FROM t")).toEqual([{ c: "4" }]);
  });

  it("applies settings to one request only", async () => {
    const [limited] = await rows<{ v: string }>(
      createClient({ url, clickhouse_settings: { max_threads: 1 } }),
      "SELECT getSetting('max_threads') AS v",
    );
    const [normal] = await rows<{ v: string }>(client, "SELECT getSetting('max_threads') AS v");
    expect(String(limited?.v)).toBe("1");
    expect(String(normal?.v)).not.toBe("1");
  });

  it("reports errors as ClickHouse does, so the client raises ClickHouseError with the real code", async () => {
    const error = await client.query({ query: "SELECT * FROM no_such_table" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClickHouseError);
    expect(error).toMatchObject({ code: "60", type: "UNKNOWN_TABLE" });

    const res = await fetch(`${url}/?query=${encodeURIComponent("SELEC 1")}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("x-clickhouse-exception-code")).toBe("62");
    expect(await res.text()).toMatch(/^Code: 62\. DB::Exception: .*\(SYNTAX_ERROR\) \(version 26\./s);
  });

  it("surfaces a bad insert's parse error from the engine", async () => {
    const error = await client
      .insert({ table: "t", values: [{ id: "not a number", name: "x", tags: [] }], format: "JSONEachRow" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClickHouseError);
    expect((error as ClickHouseError).type).toMatch(/CANNOT_PARSE/);
  });

  it("returns query id and summary headers", async () => {
    const res = await fetch(`${url}/?query_id=q-123&query=${encodeURIComponent("SELECT 1")}`);
    expect(res.headers.get("x-clickhouse-query-id")).toBe("q-123");
    expect(JSON.parse(res.headers.get("x-clickhouse-summary") ?? "{}")).toHaveProperty("read_rows");
  });

  it("gzips responses when asked and accepts gzipped requests", async () => {
    const compressed = createClient({ url, compression: { response: true } });
    const result = await compressed.query({ query: "SELECT number FROM numbers(3)", format: "JSONEachRow" });
    expect(await result.json()).toEqual([{ number: "0" }, { number: "1" }, { number: "2" }]);

    const res = await fetch(`${url}/?enable_http_compression=1`, {
      method: "POST",
      headers: { "Content-Encoding": "gzip", "Accept-Encoding": "gzip" },
      body: gzipSync("SELECT 'zipped' FORMAT TabSeparated"),
    });
    expect(res.headers.get("content-encoding")).toBe("gzip");
    expect(await res.text()).toBe("zipped\n");
  });

  it("serves concurrent requests", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => rows<{ v: number }>(client, "SELECT {i:UInt8} AS v", { i })),
    );
    expect(results.map((r) => r[0]?.v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe("with a password", () => {
  let secured: RunningClickHouse;
  beforeAll(async () => {
    // A second endpoint on the same process's engine, as a production-like deployment would require auth.
    secured = await startClickHouseServer({
      dataDir: mkdtempSync(join(tmpdir(), "tally-auth-")),
      port: 0,
      password: "s3cret",
    });
  });
  afterAll(() => secured.close());

  it("refuses a wrong password with AUTHENTICATION_FAILED and accepts the right one", async () => {
    const wrong = await createClient({ url: secured.url, password: "nope" })
      .query({ query: "SELECT 1" })
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: "516", type: "AUTHENTICATION_FAILED" });
    const right = await createClient({ url: secured.url, password: "s3cret" }).query({
      query: "SELECT 1 AS x",
      format: "JSONEachRow",
    });
    expect(await right.json()).toEqual([{ x: 1 }]);
  });
});
