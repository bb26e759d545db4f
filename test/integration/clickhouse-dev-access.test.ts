/**
 * The dev ClickHouse endpoint's access rules against the real engine: passwords generated once per
 * data folder (a 0600 file), requests a web page could send refused (Origin, Sec-Fetch-*, a foreign
 * Host), and a query user that cannot write, drop, read files or URLs, or lift its limits.
 */
import { mkdtempSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type DevCredentials,
  dataDirCredentials,
  type RunningClickHouse,
  startClickHouseServer,
} from "../../dev/servers/clickhouse-server.ts";

let server: RunningClickHouse;
let credentials: DevCredentials;
const dataDir = mkdtempSync(join(tmpdir(), "tally-ch-access-"));

/** One request with exactly these headers (fetch would not let a test set Host). */
function send(sql: string, headers: Record<string, string>, query = ""): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/?default_format=TabSeparated${query}`, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(sql);
  });
}
const basic = (user: string, password: string) => ({
  Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});
const asWriter = (sql: string, extra: Record<string, string> = {}) =>
  send(sql, { ...basic(credentials.user, credentials.password), ...extra });
const asQuery = (sql: string, query = "") => send(sql, basic(credentials.queryUser, credentials.queryPassword), query);

beforeAll(async () => {
  server = await startClickHouseServer({
    dataDir,
    port: 0,
    generateCredentials: true,
    queryLimits: { max_execution_time: 1, max_result_rows: 5 },
  });
  if (!server.credentials) throw new Error("no credentials were generated");
  credentials = server.credentials;
  expect((await asWriter("CREATE TABLE probe (x UInt32) ENGINE = MergeTree ORDER BY x")).status).toBe(200);
  expect((await asWriter("INSERT INTO probe VALUES (1)")).status).toBe(200);
});
afterAll(() => server.close());

describe("passwords per data folder", () => {
  it("keeps them in a file only its owner can read, and reads the same ones on the next start", () => {
    expect(statSync(join(dataDir, "tally-credentials.json")).mode & 0o777).toBe(0o600);
    expect(dataDirCredentials(dataDir)).toEqual(credentials);
    expect(credentials.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(credentials.queryPassword).not.toBe(credentials.password);
  });

  it.each([
    ["no password", {}],
    ["a wrong password", basic("default", "nope")],
    ["the query user's password for default", basic("default", "")],
    ["an unknown user", basic("admin", "admin")],
  ])("refuses %s with AUTHENTICATION_FAILED", async (_, headers) => {
    const res = await send("SELECT 1", headers);
    expect(res.status).toBe(401);
    expect(res.body).toContain("AUTHENTICATION_FAILED");
  });

  it("answers the writing user with its password", async () => {
    expect(await asWriter("SELECT count() FROM probe")).toEqual({ status: 200, body: "1\n" });
  });
});

describe("requests a web page could send", () => {
  it.each([
    ["a browser Origin", { Origin: "https://evil.example" }],
    ["Sec-Fetch-Site (forms, images)", { "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Site": "cross-site" }],
    ["Sec-Fetch-Dest", { "Sec-Fetch-Dest": "image" }],
    ["a rebound Host", { Host: "evil.example:8123" }],
    ["a LAN Host", { Host: "192.168.1.20:8123" }],
  ])("refuses %s with 403, even with the right password", async (_, headers) => {
    const res = await asWriter("SELECT 1", headers);
    expect(res.status).toBe(403);
    expect(res.body).toContain("ACCESS_DENIED");
  });

  it.each(["localhost", "[::1]", "127.0.0.1"])("answers the loopback Host %s", async (host) => {
    expect((await asWriter("SELECT 1", { Host: `${host}:${server.port}` })).status).toBe(200);
  });
});

describe("the query user", () => {
  it("reads", async () => {
    expect(await asQuery("SELECT count() FROM probe")).toEqual({ status: 200, body: "1\n" });
  });

  it.each([
    ["INSERT", "INSERT INTO probe VALUES (2)"],
    ["DROP", "DROP TABLE probe"],
    ["CREATE", "CREATE TABLE other (x UInt8) ENGINE = Memory"],
    ["ALTER", "ALTER TABLE probe DELETE WHERE 1"],
    ["the file() table function", "SELECT * FROM file('/etc/passwd', 'LineAsString')"],
    ["the url() table function", "SELECT * FROM url('http://127.0.0.1:1/', 'LineAsString')"],
    ["the file() function", "SELECT file('/etc/passwd')"],
    ["file() quoted", `SELECT "file"('/etc/passwd')`],
    ["a second statement", "SELECT 1; SELECT file('/etc/passwd')"],
    ["lifting a limit in the query", "SELECT 1 SETTINGS max_execution_time = 600"],
  ])("cannot use %s", async (_, sql) => {
    const res = await asQuery(sql);
    expect(res.status).not.toBe(200);
    expect(res.body).not.toContain("root:");
    expect(await asWriter("SELECT count() FROM probe")).toEqual({ status: 200, body: "1\n" });
  });

  it("hits max_result_rows, even when the request asks for no limit", async () => {
    expect((await asQuery("SELECT number FROM numbers(5)")).status).toBe(200);
    const res = await asQuery("SELECT number FROM numbers(6)", "&max_result_rows=0&readonly=0");
    expect(res.body).toContain("TOO_MANY_ROWS_OR_BYTES");
  });

  it("hits max_execution_time, even when the request asks for more", async () => {
    const res = await asQuery("SELECT count() FROM numbers(100000000000)", "&max_execution_time=600");
    expect(res.body).toContain("TIMEOUT_EXCEEDED");
  });

  it("keeps a lower limit the request asks for", async () => {
    const res = await asQuery("SELECT number FROM numbers(3)", "&max_result_rows=2");
    expect(res.body).toContain("TOO_MANY_ROWS_OR_BYTES");
  });
});
