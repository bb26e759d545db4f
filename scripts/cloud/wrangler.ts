/** Runs the project's own wrangler (node_modules) without a terminal: no prompts, no usage metrics. */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RunResult } from "./state.ts";

const WRANGLER = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));

/** Runs wrangler and captures its output; `echo` also passes it through as it comes (for long commands). */
export function runWrangler(args: string[], echo = false): RunResult {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], {
    encoding: "utf8",
    stdio: ["ignore", echo ? "inherit" : "pipe", echo ? "inherit" : "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    status: result.status ?? 1,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? result.error?.message ?? "",
  };
}
