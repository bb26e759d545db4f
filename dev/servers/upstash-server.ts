/**
 * Upstash's REST protocol over a real Redis, so the unmodified `@upstash/redis` SDK (what the query
 * cache runs in production) works in development and tests. Development and tests only.
 *
 * The wire format, as the SDK speaks it: `POST /` with one command as a flat JSON array,
 * `POST /pipeline` and `POST /multi-exec` with an array of commands (answered with an array of
 * `{result}` / `{error}`, HTTP 200 even when entries failed); `Authorization: Bearer <token>`;
 * `Upstash-Encoding: base64` means every string in a result is base64 while integers and null stay
 * raw; a failed command is `{"error": message}` with HTTP 400. `GET /set/key/value` also works.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, ErrorReply, RESP_TYPES } from "redis";

export interface UpstashServerOptions {
  redisUrl?: string;
  /** The bearer token clients must send; generated when omitted. */
  token?: string;
  port?: number;
  host?: string;
}

export interface RunningUpstashServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

type Entry = { result: unknown } | { error: string };

/** A request the protocol refuses (bad JSON, a forbidden command): Upstash answers 400. */
class BadRequest extends Error {}

// Commands that change the state of the connection they run on. Every HTTP request shares one
// connection, so these would leak into other requests (MULTI/EXEC have their own endpoint).
const CONNECTION_STATE = new Set(
  "MULTI EXEC DISCARD WATCH UNWATCH SELECT SUBSCRIBE PSUBSCRIBE SSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE SUNSUBSCRIBE MONITOR RESET QUIT HELLO AUTH CLIENT".split(
    " ",
  ),
);
// Replies as bytes, so base64 encodes exactly what Redis stored (UTF-8 text would mangle binary).
const AS_BYTES = { [RESP_TYPES.BLOB_STRING]: Buffer, [RESP_TYPES.SIMPLE_STRING]: Buffer };

/** Starts the adapter; rejects at once when Redis does not answer (so callers can fall back). */
export async function startUpstashServer(options: UpstashServerOptions = {}): Promise<RunningUpstashServer> {
  const token = options.token || randomBytes(24).toString("base64url");
  let connectedOnce = false;
  const redisOptions = {
    url: options.redisUrl ?? "redis://127.0.0.1:6379",
    // RESP2: Upstash answers HGETALL and friends as flat arrays, which is what RESP2 gives.
    RESP: 2 as const,
    // Fail the first connect at once (no Redis here: the caller falls back); later, reconnect.
    socket: {
      reconnectStrategy: (retries: number, cause: Error) => (connectedOnce ? Math.min(retries * 100, 2_000) : cause),
    },
  };
  const shared = createClient(redisOptions);
  // A transaction needs a connection of its own: on the shared one, other requests' commands
  // would land between MULTI and EXEC. One transaction at a time runs on it (the `queue` chain).
  const tx = createClient(redisOptions);
  for (const client of [shared, tx])
    client.on("error", (e: Error) => connectedOnce && console.warn(`upstash-server: Redis: ${e.message}`));
  await Promise.all([shared.connect(), tx.connect()]).catch(async (e) => {
    shared.destroy();
    tx.destroy();
    throw e;
  });
  connectedOnce = true;
  let queue: Promise<unknown> = Promise.resolve();

  const run = (args: string[]) => shared.sendCommand(args, { typeMapping: AS_BYTES });
  const entry = (reply: unknown, base64: boolean): Entry =>
    reply instanceof ErrorReply ? { error: reply.message } : { result: encode(reply, base64) };

  async function transaction(commands: string[][], base64: boolean): Promise<Entry[]> {
    const sends = [["MULTI"], ...commands, ["EXEC"]].map((c) => tx.sendCommand(c, { typeMapping: AS_BYTES }));
    const settled = await Promise.allSettled(sends);
    const exec = settled.at(-1);
    // A command refused while queueing (unknown, wrong arity) aborts the whole transaction.
    if (exec?.status === "rejected") throw exec.reason;
    const replies = exec?.value;
    if (!Array.isArray(replies)) throw new Error("EXEC returned no replies");
    return replies.map((r) => entry(r, base64));
  }

  async function handle(req: IncomingMessage, body: string): Promise<[number, unknown]> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const auth = req.headers.authorization ?? "";
    if (auth !== `Bearer ${token}` && url.searchParams.get("_token") !== token) return [401, { error: "Unauthorized" }];
    const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
    if (url.pathname === "/pipeline" || url.pathname === "/multi-exec") {
      const commands = parse(body);
      if (!Array.isArray(commands) || commands.length === 0) throw new BadRequest("ERR expected an array of commands");
      if (url.pathname === "/pipeline") {
        // Sent together, node-redis pipelines them on the one connection, in order; each entry
        // fails on its own, like Upstash's.
        const settle = async (c: unknown): Promise<Entry> => {
          try {
            return entry(await run(command(c)), base64);
          } catch (e) {
            return { error: e instanceof Error ? e.message : String(e) };
          }
        };
        return [200, await Promise.all(commands.map(settle))];
      }
      const checked = commands.map(command);
      const result = queue.then(() => transaction(checked, base64));
      queue = result.catch(() => undefined);
      return [200, await result];
    }
    // `POST /` carries the command as JSON; any other path is the command itself, `/set/k/v`.
    const args = url.pathname === "/" ? command(parse(body)) : url.pathname.split("/").slice(1).map(decodeURIComponent);
    if (url.pathname !== "/" && body !== "") args.push(body);
    return [200, { result: encode(await run(command(args)), base64) }];
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, Buffer.concat(chunks).toString("utf8"))
        .catch((e: unknown): [number, unknown] => {
          // Redis refusing a command and a malformed request are the client's fault (400);
          // anything else (Redis gone) is ours.
          const status = e instanceof ErrorReply || e instanceof BadRequest ? 400 : 500;
          return [status, { error: e instanceof Error ? e.message : String(e) }];
        })
        .then(([status, payload]) => {
          res.writeHead(status, { "Content-Type": "application/json" });
          res.end(JSON.stringify(payload));
        });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    token,
    async close() {
      // The SDK keeps connections alive; close them, or close() waits for them to idle out.
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all([shared.close(), tx.close()]);
    },
  };
}

function parse(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new BadRequest("ERR failed to parse the request body as JSON");
  }
}

/** One command as Redis arguments: the SDK sends numbers (and booleans) as JSON values. */
function command(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new BadRequest("ERR a command is a non-empty array");
  const args = value.map((v) => {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    throw new BadRequest("ERR command arguments must be strings or numbers");
  });
  if (CONNECTION_STATE.has(String(args[0]).toUpperCase()))
    throw new BadRequest(`ERR command is not available: ${args[0]}`);
  return args;
}

/** Strings (and bytes) become base64 when asked; integers, null and nesting stay as they are. */
function encode(reply: unknown, base64: boolean): unknown {
  if (Buffer.isBuffer(reply)) return base64 ? reply.toString("base64") : reply.toString("utf8");
  if (typeof reply === "string") return base64 ? Buffer.from(reply).toString("base64") : reply;
  if (Array.isArray(reply)) return reply.map((r) => encode(r, base64));
  return reply;
}
