/**
 * A ClickHouse-HTTP-compatible endpoint over the chDB engine (ClickHouse 26.x in-process), so the
 * unmodified @clickhouse/client-web works against it from Node and from inside `wrangler dev`.
 * Development and tests only: production points CLICKHOUSE_URL at a real server.
 */

import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { brotliDecompressSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { drainPending, Session } from "chdb";
import { type ParsedRequest, parseClickHouseRequest } from "./clickhouse-http.ts";

export interface ClickHouseServerOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** When set, requests must authenticate as `default` with this password. */
  password?: string;
}

export interface RunningClickHouse {
  url: string;
  port: number;
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
async function execute(dataDir: string, request: ParsedRequest) {
  const session = new Session(dataDir, { connectionArgs: SERVER_DEFAULTS });
  try {
    const preamble: string[] = [];
    const assignments: string[] = [];
    if (request.database !== "default") preamble.push(`USE \`${request.database.replaceAll("`", "")}\``);
    for (const [name, value] of request.settings) assignments.push(`${name} = ${quoteSetting(value)}`);
    // `SET param_x` hands the engine the raw URL text, which it parses as the HTTP interface does
    // (escaped text); chDB's queryBind takes values verbatim and would keep `\'` in strings.
    for (const [name, value] of request.params) assignments.push(`param_${name} = ${quoteSetting(value)}`);
    // One SET for all: each statement of a multi-statement preamble costs the engine ~0.15 ms.
    if (assignments.length > 0) preamble.push(`SET ${assignments.join(", ")}`);
    if (preamble.length > 0) await session.queryAsync(preamble.join("; "));
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

async function handle(req: IncomingMessage, res: ServerResponse, options: ClickHouseServerOptions, version: string) {
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
    if (options.password !== undefined && (request.user !== "default" || request.password !== options.password)) {
      throw new EngineError(
        516,
        401,
        `Code: 516. DB::Exception: ${request.user}: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`,
      );
    }
    const started = process.hrtime.bigint();
    const result = await execute(options.dataDir, request);
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
  // The first session loads the data directory; it stays open so later per-request sessions are cheap.
  const anchor = new Session(options.dataDir, { connectionArgs: SERVER_DEFAULTS });
  const version = (await anchor.queryAsync(ENGINE_VERSION_QUERY, { format: "TabSeparated" })).text().trim();
  const server: Server = createServer((req, res) => {
    handle(req, res, options, version).catch((error: unknown) => {
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
