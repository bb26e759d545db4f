/**
 * Who the dev ClickHouse endpoint lets in (clickhouse-server.ts): `default`, which writes, and the
 * query user, read-only with limits it cannot lift; their passwords, generated once per data folder.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The limits forced on the query user's every statement (ClickHouse setting names). */
export interface QueryUserLimits {
  max_execution_time: number;
  max_memory_usage: number;
  max_result_rows: number;
}
export const DEFAULT_QUERY_LIMITS: QueryUserLimits = {
  max_execution_time: 15,
  max_memory_usage: 4_000_000_000,
  max_result_rows: 1_000_000,
};
export const QUERY_USER = "tally_query";

/** Who may connect, when the server checks: the writing user and the read-only query user. */
export interface DevCredentials {
  user: string;
  password: string;
  queryUser: string;
  queryPassword: string;
}

const CREDENTIALS_FILE = "tally-credentials.json";

/** The data folder's credentials, generated on its first use; only its owner can read the file. */
export function dataDirCredentials(dataDir: string): DevCredentials {
  const file = join(dataDir, CREDENTIALS_FILE);
  if (existsSync(file)) {
    chmodSync(file, 0o600); // a copy or a restore may have widened it
    return JSON.parse(readFileSync(file, "utf8")) as DevCredentials;
  }
  const secret = () => Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  const credentials = { user: "default", password: secret(), queryUser: QUERY_USER, queryPassword: secret() };
  // `wx`: two starts racing on a fresh folder must not each keep a different password.
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return credentials;
}

/** Where a tool reaches ClickHouse as the writer, and whose password it uses (`from`: the file it was read from). */
export interface WriterLogin {
  url: string;
  username: string;
  password: string;
  from?: string;
}

/**
 * CLICKHOUSE_URL (default the dev engine) as CLICKHOUSE_USER/CLICKHOUSE_PASSWORD; with no password
 * set and an engine on this machine, the writer's password from the dev data folder (TALLY_DATA_DIR's
 * `clickhouse/`, or CLICKHOUSE_DATA_DIR as `npm run clickhouse` takes it), when it has one. The file
 * is only read: a folder without one belongs to an engine started without passwords.
 */
export function writerLogin(env: Record<string, string | undefined> = process.env): WriterLogin {
  const url = env.CLICKHOUSE_URL ?? "http://127.0.0.1:8123";
  const login = { url, username: env.CLICKHOUSE_USER ?? "default", password: env.CLICKHOUSE_PASSWORD ?? "" };
  if (env.CLICKHOUSE_PASSWORD !== undefined || !LOOPBACK.has(new URL(url).hostname)) return login;
  const dataDir = env.CLICKHOUSE_DATA_DIR ?? join(env.TALLY_DATA_DIR ?? ".data", "clickhouse");
  const file = join(dataDir, CREDENTIALS_FILE);
  if (!existsSync(file)) return login;
  const saved = JSON.parse(readFileSync(file, "utf8")) as DevCredentials;
  return { url, username: saved.user, password: saved.password, from: file };
}
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

const CLAMPED = new Set(["max_execution_time", "max_memory_usage", "max_result_rows"]);

/**
 * The query user's settings: the client's own but `readonly` and the limits (`client`, applied
 * first), then `forced`: each limit (a lower one the client asked for is kept; 0, unlimited, or a
 * higher one becomes the server's) and `readonly = 1` last, so no later SET, `SETTINGS` clause
 * or table function that writes or reads outside the database can follow.
 */
export function querySettings(asked: Map<string, string>, limits: QueryUserLimits) {
  const client = new Map([...asked].filter(([name]) => name !== "readonly" && !CLAMPED.has(name)));
  const forced = new Map<string, string>();
  for (const [name, max] of Object.entries(limits)) {
    const wanted = Number(asked.get(name) ?? "0");
    forced.set(name, String(wanted > 0 && wanted < max ? wanted : max));
  }
  forced.set("result_overflow_mode", "throw");
  forced.set("readonly", "1");
  return { client, forced };
}
