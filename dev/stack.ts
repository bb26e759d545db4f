/**
 * Starts `npm run dev` (scripts/dev.ts) as a person would, on free ports and a fresh data
 * directory, for end-to-end and browser tests and for the benches that drive the whole stack. Every
 * test file or bench that needs the stack starts its own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.ts";
import { dataDirCredentials } from "./servers/clickhouse-users.ts";
import { warehouseUrl } from "./servers/warehouse-server.ts";

export interface DevStack {
  /** `http://127.0.0.1:<port>`: the Worker (collect, API, dashboard). */
  url: string;
  port: number;
  clickhouseUrl: string;
  clickhousePort: number;
  /**
   * How to reach the stack's ClickHouse directly as its writer, as @clickhouse/client-web takes it
   * (`createClient({ url, ...clickhouseAuth })`): the data folder's generated `default` password, or
   * CLICKHOUSE_USER/CLICKHOUSE_PASSWORD from `env` when it names a CLICKHOUSE_URL of its own.
   */
  clickhouseAuth: { username: string; password: string };
  /** The same as a Basic `Authorization` header, for a plain `fetch` of `clickhouseUrl`. */
  clickhouseHeaders: { Authorization: string };
  /** One statement on the stack's ClickHouse as its writer: the answer's text; throws unless 200. */
  clickhouseText(sql: string): Promise<string>;
  /** The stack's warehouse: its own embedded PostgreSQL, unless `env` gave a WAREHOUSE_URL. */
  warehouseUrl: string;
  warehousePort: number;
  adminToken: string;
  /** The stack's TALLY_DATA_DIR (a fresh temporary folder, removed by `stop`). */
  dataDir: string;
  /** The demo property's API key, as `npm run dev` printed it. */
  demoKey: string;
  /** Everything the stack printed so far. */
  output(): string;
  /** SIGINT (Ctrl-C), then waits: resolves `<exit code>/<signal>`. */
  stop(): Promise<string>;
}

export interface DevStackOptions {
  args?: string[];
  /** Over the stack's own variables; the embedded ClickHouse has its generated passwords, as in `npm run dev`. */
  env?: Record<string, string>;
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const port = await freePort();
  const clickhousePort = await freePort();
  const warehousePort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "tally-e2e-"));
  // Under root the warehouse runs as the postgres user, which must enter this folder (mkdtemp makes it 0700).
  chmodSync(dataDir, 0o755);
  // One token for every stack: parallel test files share the checkout's .dev.vars, where
  // scripts/dev.ts writes it (wrangler prefers .dev.vars to --var), and must not overwrite each other's.
  const adminToken = "e2e-admin-token-shared-by-parallel-stacks";
  let output = "";
  const dev: ChildProcess = spawn(process.execPath, ["scripts/dev.ts", ...(options.args ?? [])], {
    env: {
      ...process.env,
      PORT: String(port),
      CLICKHOUSE_PORT: String(clickhousePort),
      WAREHOUSE_PORT: String(warehousePort),
      TALLY_DATA_DIR: dataDir,
      // As `npm run dev` runs by default, whatever the shell exports.
      TALLY_CLICKHOUSE_AUTH: "generated",
      ADMIN_TOKEN: adminToken,
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (d: Buffer) => {
    output += d.toString();
  };
  dev.stdout?.on("data", collect);
  dev.stderr?.on("data", collect);
  const stop = async () => {
    if (dev.exitCode === null && dev.signalCode === null) {
      const exited = new Promise((resolve) => dev.once("exit", resolve));
      dev.kill("SIGINT");
      await exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
    return `${dev.exitCode}/${dev.signalCode}`;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run dev was not ready in 90 s:\n${output}`)), 90_000);
      const check = () => {
        if (!output.includes("Ctrl-C stops everything")) return;
        clearTimeout(timer);
        resolve();
      };
      dev.stdout?.on("data", check);
      dev.stderr?.on("data", check);
      dev.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`npm run dev exited early with ${code}:\n${output}`));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const demoKey = /API key (tk_\S+)/.exec(output)?.[1];
  if (!demoKey) {
    await stop();
    throw new Error(`no demo API key in the dev output:\n${output}`);
  }
  const writer = options.env?.CLICKHOUSE_URL ? undefined : dataDirCredentials(join(dataDir, "clickhouse"));
  const clickhouseAuth = writer
    ? { username: writer.user, password: writer.password }
    : { username: options.env?.CLICKHOUSE_USER ?? "default", password: options.env?.CLICKHOUSE_PASSWORD ?? "" };
  const basic = Buffer.from(`${clickhouseAuth.username}:${clickhouseAuth.password}`).toString("base64");
  const clickhouseUrl = options.env?.CLICKHOUSE_URL ?? `http://127.0.0.1:${clickhousePort}`;
  const clickhouseHeaders = { Authorization: `Basic ${basic}` };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    clickhouseUrl,
    clickhousePort,
    clickhouseAuth,
    clickhouseHeaders,
    clickhouseText: async (sql) => {
      const res = await fetch(`${clickhouseUrl}/?query=${encodeURIComponent(sql)}`, { headers: clickhouseHeaders });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`ClickHouse answered ${res.status} to ${sql}: ${text.slice(0, 500)}`);
      return text;
    },
    warehouseUrl: options.env?.WAREHOUSE_URL ?? process.env.WAREHOUSE_URL ?? warehouseUrl({ port: warehousePort }),
    warehousePort,
    adminToken,
    dataDir,
    demoKey,
    output: () => output,
    stop,
  };
}
