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
import { dataDirCredentials } from "./servers/clickhouse-server.ts";
import { warehouseUrl } from "./servers/warehouse-server.ts";

export interface DevStack {
  /** `http://127.0.0.1:<port>`: the Worker (collect, API, dashboard). */
  url: string;
  port: number;
  clickhouseUrl: string;
  clickhousePort: number;
  /**
   * How to reach the stack's ClickHouse directly, as @clickhouse/client-web takes it: the data
   * folder's generated `default` password, or none when the stack was started with `clickhouseAuth: "none"`.
   */
  clickhouseAuth: { username: string; password: string };
  /** The stack's warehouse: its own embedded PostgreSQL, unless `env` gave a WAREHOUSE_URL. */
  warehouseUrl: string;
  warehousePort: number;
  adminToken: string;
  /** The demo property's API key, as `npm run dev` printed it. */
  demoKey: string;
  /** Everything the stack printed so far. */
  output(): string;
  /** SIGINT (Ctrl-C), then waits: resolves `<exit code>/<signal>`. */
  stop(): Promise<string>;
}

export interface DevStackOptions {
  args?: string[];
  env?: Record<string, string>;
  /**
   * `generated` (as `npm run dev`): the embedded ClickHouse has per-data-folder passwords.
   * `none` (the default here until every test and bench that queries the stack's ClickHouse
   * directly passes `clickhouseAuth`): no passwords; the loopback-only guard still applies.
   */
  clickhouseAuth?: "generated" | "none";
}

export async function startDevStack(options: DevStackOptions = {}): Promise<DevStack> {
  const auth = options.clickhouseAuth ?? "none";
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
      TALLY_CLICKHOUSE_AUTH: auth,
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
  const embedded = auth === "generated" && !options.env?.CLICKHOUSE_URL;
  const writer = embedded ? dataDirCredentials(join(dataDir, "clickhouse")) : undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    clickhouseUrl: `http://127.0.0.1:${clickhousePort}`,
    clickhousePort,
    clickhouseAuth: { username: writer?.user ?? "default", password: writer?.password ?? "" },
    warehouseUrl: options.env?.WAREHOUSE_URL ?? process.env.WAREHOUSE_URL ?? warehouseUrl({ port: warehousePort }),
    warehousePort,
    adminToken,
    demoKey,
    output: () => output,
    stop,
  };
}
