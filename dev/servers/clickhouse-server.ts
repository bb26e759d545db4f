/**
 * A ClickHouse-HTTP-compatible endpoint over the chDB engine (ClickHouse 26.x in-process), so the
 * unmodified @clickhouse/client-web works against it from Node and from inside `wrangler dev`.
 * Development and tests only: production points CLICKHOUSE_URL at a real server.
 *
 * Access, as a real server would be set up (README "Locked-down queries"): requests a web page
 * could send are refused (clickhouse-http.ts `refusalOf`); with `generateCredentials`, `default`
 * and the query user have passwords generated once per data folder; the query user is read-only
 * with execution-time, memory and result limits the server forces, whatever the client sends.
 */

import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { drainPending, Session } from "chdb";
import { type ParsedRequest, parseClickHouseRequest, refusalOf } from "./clickhouse-http.ts";
import {
  DEFAULT_QUERY_LIMITS,
  type DevCredentials,
  dataDirCredentials,
  QUERY_USER,
  type QueryUserLimits,
  querySettings,
} from "./clickhouse-users.ts";

export { type DevCredentials, dataDirCredentials, QUERY_USER, type QueryUserLimits } from "./clickhouse-users.ts";

export interface ClickHouseServerOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** When set, requests must authenticate as `default` with this password. */
  password?: string;
  /**
   * `default` and the query user get passwords generated once per data folder, kept in
   * `tally-credentials.json` there (mode 0600): what `npm run dev` and `npm run clickhouse` use.
   */
  generateCredentials?: boolean;
  /** Limits the query user cannot lift; DEFAULT_QUERY_LIMITS where not given. */
  queryLimits?: Partial<QueryUserLimits>;
}

export interface RunningClickHouse {
  url: string;
  port: number;
  /** The generated credentials (`generateCredentials`), else undefined. */
  credentials: DevCredentials | undefined;
  close(): Promise<void>;
}

/** Where clickhouse-local's defaults differ from the server's, behave like the server. */
const SERVER_DEFAULTS = ["--output_format_json_quote_64bit_integers=1"];
const ENGINE_VERSION_QUERY = "SELECT version()";

/** A ClickHouse-style failure: the code and type the client parses out of the body. */
class EngineError extends Error {
  readonly code: number;
  readonly status: number;
  constructor(code: number, status: number, message: string) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

function httpStatusFor(code: number): number {
  if (code === 516) return 401;
  if (code === 497) return 403;
  if (code === 60 || code === 81) return 404;
  if ([62, 27, 26, 36, 38, 41, 42, 44, 47, 53, 69, 72, 115, 117, 130, 394, 457, 456].includes(code)) return 400;
  return 500;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function decompress(body: Buffer, encoding: string | undefined): Buffer {
  switch ((encoding ?? "").toLowerCase()) {
    case "":
    case "identity":
      return body;
    case "gzip":
      return gunzipSync(body);
    case "deflate":
      return inflateSync(body);
    case "br":
      return brotliDecompressSync(body);
    default:
      throw new EngineError(
        1001,
        400,
        `Code: 1001. DB::Exception: Unknown Content-Encoding: ${encoding}. (STD_EXCEPTION)`,
      );
  }
}

function authFailure(user: string): EngineError {
  return new EngineError(
    516,
    401,
    `Code: 516. DB::Exception: ${user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
  );
}

/** Which user a request is, checked against the credentials when the server has any. */
function roleOf(request: ParsedRequest, options: ClickHouseServerOptions, credentials: DevCredentials | undefined) {
  const { user, password } = request;
  if (credentials) {
    if (user === credentials.user && password === credentials.password) return "writer";
    if (user === credentials.queryUser && password === credentials.queryPassword) return "query";
    throw authFailure(user);
  }
  if (options.password !== undefined && (user !== "default" || password !== options.password)) throw authFailure(user);
  // Without credentials (tests, benches) the query user still gets its restrictions, by name.
  return user === QUERY_USER ? "query" : "writer";
}

const assignment = ([name, value]: [string, string]) => `${name} = ${quoteSetting(value)}`;

/**
 * Checks a query user's SQL with the engine's own parser: one statement (chDB would run several),
 * and no `file(…)`, which clickhouse-local lets read any path on the machine even in readonly mode
 * (a real server confines it to user_files_path).
 */
async function checkQueryUserSql(session: Session, sql: string): Promise<void> {
  await session.queryAsync(`SELECT formatQuerySingleLine(${quoteSetting(sql)})`, { format: "TabSeparated" });
  const ast = (await session.queryAsync(`EXPLAIN AST ${sql}`, { format: "TabSeparatedRaw" })).text();
  if (/^\s*Function file\b/m.test(ast))
    throw new EngineError(
      497,
      403,
      `Code: 497. DB::Exception: ${QUERY_USER}: Not enough privileges: file() is not allowed for the query user. (ACCESS_DENIED)`,
    );
}

function quoteSetting(value: string): string {
  return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof Error && "status" in error && error.status === 400)
    return new EngineError(1001, 400, error.message);
  const message = error instanceof Error ? error.message : String(error);
  const match = /Code: (\d+)\./.exec(message);
  const code = match ? Number(match[1]) : 1001;
  const text = match ? message : `Code: 1001. DB::Exception: ${message}. (STD_EXCEPTION)`;
  return new EngineError(code, httpStatusFor(code), text);
}

/** Runs one parsed request on its own chDB session, so per-request settings never leak. */
async function execute(dataDir: string, request: ParsedRequest, queryLimits: QueryUserLimits | null) {
  const session = new Session(dataDir, { connectionArgs: SERVER_DEFAULTS });
  try {
    const preamble: string[] = [];
    if (request.database !== "default") preamble.push(`USE \`${request.database.replaceAll("`", "")}\``);
    const settings = queryLimits ? querySettings(request.settings, queryLimits) : undefined;
    const assignments = [...(settings?.client ?? request.settings)].map(assignment);
    // `SET param_x` hands the engine the raw URL text, which it parses as the HTTP interface does
    // (escaped text); chDB's queryBind takes values verbatim and would keep `\'` in strings.
    for (const [name, value] of request.params) assignments.push(`param_${name} = ${quoteSetting(value)}`);
    // One SET for all: each statement of a multi-statement preamble costs the engine ~0.15 ms.
    if (assignments.length > 0) preamble.push(`SET ${assignments.join(", ")}`);
    if (preamble.length > 0) await session.queryAsync(preamble.join("; "));
    if (settings) {
      // Checked before the limits apply (its AST has more rows than a result may), read-only after.
      await checkQueryUserSql(session, request.sql);
      await session.queryAsync(`SET ${[...settings.forced].map(assignment).join(", ")}`);
    }
    return await session.queryAsync(request.sql, { format: request.format });
  } finally {
    session.close();
  }
}

const CONTENT_TYPES: Record<string, string> = {
  JSON: "application/json; charset=UTF-8",
  JSONEachRow: "application/x-ndjson; charset=UTF-8",
  JSONCompactEachRow: "application/x-ndjson; charset=UTF-8",
  CSV: "text/csv; charset=UTF-8; header=absent",
  CSVWithNames: "text/csv; charset=UTF-8; header=present",
};

/** What every request is checked against: the options, the credentials and the query user's limits. */
interface Access {
  options: ClickHouseServerOptions;
  credentials: DevCredentials | undefined;
  limits: QueryUserLimits;
}

async function handle(req: IncomingMessage, res: ServerResponse, access: Access, version: string) {
  const refusal = refusalOf(req.headers);
  if (refusal) {
    res
      .writeHead(403, { "Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": "497" })
      .end(`Code: 497. DB::Exception: ${refusal}. (ACCESS_DENIED)\n`);
    return;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/ping" || (url.pathname === "/" && req.method === "GET" && !url.search)) {
    res.writeHead(200, { "Content-Type": "text/plain; charset=UTF-8" }).end("Ok.\n");
    return;
  }
  const queryId = url.searchParams.get("query_id") ?? crypto.randomUUID();
  const headers: Record<string, string> = {
    "X-ClickHouse-Query-Id": queryId,
    "X-ClickHouse-Server-Display-Name": "tally-chdb",
    "X-ClickHouse-Timezone": "UTC",
  };
  try {
    const body = decompress(await readBody(req), req.headers["content-encoding"]);
    const request = await parseClickHouseRequest(url, req.headers, body);
    const role = roleOf(request, access.options, access.credentials);
    const started = process.hrtime.bigint();
    const result = await execute(access.options.dataDir, request, role === "query" ? access.limits : null);
    const out = Buffer.from(result.bytes());
    const summary = {
      read_rows: String(result.rowsRead),
      read_bytes: String(result.bytesRead),
      written_rows: "0",
      written_bytes: "0",
      total_rows_to_read: String(result.rowsRead),
      result_rows: "0",
      result_bytes: String(out.byteLength),
      elapsed_ns: String(process.hrtime.bigint() - started),
    };
    headers["X-ClickHouse-Summary"] = JSON.stringify(summary);
    headers["X-ClickHouse-Format"] = request.format;
    headers["Content-Type"] = CONTENT_TYPES[request.format] ?? "text/plain; charset=UTF-8";
    const gzip = request.compressResponse && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
    if (gzip) headers["Content-Encoding"] = "gzip";
    res.writeHead(200, headers).end(gzip ? gzipSync(out) : out);
  } catch (error) {
    const failure = toEngineError(error);
    headers["X-ClickHouse-Exception-Code"] = String(failure.code);
    headers["Content-Type"] = "text/plain; charset=UTF-8";
    res.writeHead(failure.status, headers).end(`${failure.message} (version ${version})\n`);
  }
}

/** Starts the engine and its HTTP endpoint; `port: 0` picks a free port. */
export async function startClickHouseServer(options: ClickHouseServerOptions): Promise<RunningClickHouse> {
  mkdirSync(options.dataDir, { recursive: true });
  const access: Access = {
    options,
    credentials: options.generateCredentials ? dataDirCredentials(options.dataDir) : undefined,
    limits: { ...DEFAULT_QUERY_LIMITS, ...options.queryLimits },
  };
  // The first session loads the data directory; it stays open so later per-request sessions are cheap.
  const anchor = new Session(options.dataDir, { connectionArgs: SERVER_DEFAULTS });
  const version = (await anchor.queryAsync(ENGINE_VERSION_QUERY, { format: "TabSeparated" })).text().trim();
  const server: Server = createServer((req, res) => {
    handle(req, res, access, version).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8123, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 8123);
  return {
    url: `http://${host}:${port}`,
    port,
    credentials: access.credentials,
    // Stop accepting, end open connections, let running queries finish inside the engine
    // (closing the engine under a running query aborts the process), then close it.
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await drainPending();
      anchor.close();
      await drainPending();
    },
  };
}
