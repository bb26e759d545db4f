/** Starts `scripts/dev.ts` (the README's dev stack) on free ports for a bench, and stops it. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../test/support/free-port.ts";

export interface DevStack {
  base: string;
  port: number;
  apiKey: string;
  adminToken: string;
  /** Everything the stack printed so far (wrangler forwards the Worker's console here). */
  output: () => string;
  stop: () => Promise<void>;
}

export async function startDevStack(): Promise<DevStack> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "tally-bench-dev-"));
  const dev: ChildProcess = spawn(process.execPath, ["scripts/dev.ts"], {
    env: { ...process.env, PORT: String(port), CLICKHOUSE_PORT: String(await freePort()), TALLY_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes("Ctrl-C stops everything")) resolve();
    };
    dev.stdout?.on("data", onData);
    dev.stderr?.on("data", onData);
    dev.once("exit", () => reject(new Error(`dev stack exited:\n${output}`)));
  });
  const apiKey = /API key (tk_\S+)/.exec(output)?.[1];
  const adminToken = /Admin token\s+(\S+)/.exec(output)?.[1];
  if (!apiKey || !adminToken) throw new Error(`no API key or admin token in:\n${output}`);
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    apiKey,
    adminToken,
    output: () => output,
    stop: async () => {
      const exited = new Promise((r) => dev.once("exit", r));
      dev.kill("SIGINT");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
