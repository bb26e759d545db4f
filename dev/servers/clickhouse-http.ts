/**
 * Parses a request in ClickHouse's HTTP interface: SQL from `query` and/or the body, `param_<name>`
 * values, settings as plain URL keys, credentials from Basic auth, X-ClickHouse-* headers or URL.
 */
import type { IncomingHttpHeaders } from "node:http";

export interface ParsedRequest {
  sql: string;
  format: string;
  database: string;
  settings: Map<string, string>;
  params: Map<string, string>;
  user: string;
  password: string;
  compressResponse: boolean;
}

/** URL keys that are part of the HTTP protocol, not engine settings. */
const PROTOCOL_KEYS = new Set([
  "query",
  "query_id",
  "database",
  "default_format",
  "user",
  "password",
  "session_id",
  "session_timeout",
  "session_check",
  "compress",
  "decompress",
  "buffer_size",
  "wait_end_of_query",
  "role",
  "quota_key",
  "enable_http_compression",
  "http_zlib_compression_level",
  "http_native_compression_disable_checksumming_on_decompress",
]);
const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class RequestError extends Error {
  readonly code = 1001;
  readonly status = 400;
}

function credentials(url: URL, headers: IncomingHttpHeaders): { user: string; password: string } {
  const auth = headers.authorization;
  if (auth?.startsWith("Basic ")) {
    const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon < 0
      ? { user: decoded, password: "" }
      : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const user = headers["x-clickhouse-user"] ?? url.searchParams.get("user") ?? "default";
  const password = headers["x-clickhouse-key"] ?? url.searchParams.get("password") ?? "";
  return { user: String(user), password: String(password) };
}

/** Multipart bodies (the client's `use_multipart_params`) carry `query` and `param_*` as form parts. */
async function multipartEntries(headers: IncomingHttpHeaders, body: Buffer): Promise<[string, string][]> {
  const request = new Request("http://localhost/", {
    method: "POST",
    headers: { "content-type": String(headers["content-type"]) },
    body: new Uint8Array(body),
  });
  const form = await request.formData();
  const entries: [string, string][] = [];
  form.forEach((value, key) => {
    entries.push([key, typeof value === "string" ? value : ""]);
  });
  return entries;
}

/** Reads one request; throws a ClickHouse-style error for a request the engine must not see. */
export async function parseClickHouseRequest(
  url: URL,
  headers: IncomingHttpHeaders,
  body: Buffer,
): Promise<ParsedRequest> {
  const entries: [string, string][] = [...url.searchParams.entries()];
  let bodySql = body.toString("utf8");
  if (String(headers["content-type"] ?? "").startsWith("multipart/form-data")) {
    entries.push(...(await multipartEntries(headers, body)));
    bodySql = "";
  }
  const settings = new Map<string, string>();
  const params = new Map<string, string>();
  let querySql = "";
  for (const [key, value] of entries) {
    if (key === "query") querySql = value;
    else if (key.startsWith("param_")) {
      const name = key.slice("param_".length);
      if (!PARAM_NAME.test(name))
        throw new RequestError(`Code: 1001. DB::Exception: Bad parameter name ${name}. (STD_EXCEPTION)`);
      params.set(name, value);
    } else if (!PROTOCOL_KEYS.has(key)) {
      if (!SETTING_NAME.test(key))
        throw new RequestError(`Code: 115. DB::Exception: Unknown setting '${key}'. (UNKNOWN_SETTING)`);
      settings.set(key, value);
    }
  }
  // As ClickHouse does: the `query` parameter, then the body (inline INSERT data or more SQL).
  const sql = querySql && bodySql ? `${querySql}\n${bodySql}` : querySql || bodySql;
  if (sql.trim() === "") throw new RequestError("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)");
  return {
    sql,
    format: url.searchParams.get("default_format") ?? "TabSeparated",
    database: url.searchParams.get("database") ?? String(headers["x-clickhouse-database"] ?? "default"),
    settings,
    params,
    ...credentials(url, headers),
    compressResponse: url.searchParams.get("enable_http_compression") === "1",
  };
}

/** The names a loopback-only server answers to: anything else in `Host` is a rebinding page's domain. */
const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$/i;

/**
 * Why a request must be refused before anything else, or null: browsers mark their requests with
 * `Origin` (every cross-origin POST) or `Sec-Fetch-Site` / `Sec-Fetch-Dest` (every request to a
 * loopback address, forms and images included), and a page that rebinds its own domain to
 * 127.0.0.1 still sends that domain as `Host`. Tools send none of these (Node's fetch sends only
 * `Sec-Fetch-Mode`). Without this, any web page the developer opens could run SQL here.
 */
export function refusalOf(headers: IncomingHttpHeaders): string | null {
  if (headers.origin !== undefined) return `requests from web pages are refused (Origin: ${headers.origin})`;
  if (headers["sec-fetch-site"] !== undefined || headers["sec-fetch-dest"] !== undefined)
    return "requests from web pages are refused (Sec-Fetch-Site / Sec-Fetch-Dest)";
  const host = headers.host ?? "";
  if (!LOOPBACK_HOST.test(host))
    return `Host ${JSON.stringify(host)} is refused: this endpoint answers only to 127.0.0.1, localhost and [::1]`;
  return null;
}
