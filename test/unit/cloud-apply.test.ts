/**
 * What setup:cloud and deploy run when not a dry run (scripts/cloud/setup.ts, deploy.ts), against a
 * wrangler that records its calls: the plan's commands in order, stopping at the first failure; the
 * new Hyperdrive id handed to the user; `wrangler deploy` only after a check with no problem.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CliOptions } from "../../scripts/cloud/cli.ts";
import { runDeploy } from "../../scripts/cloud/deploy.ts";
import { runSetup } from "../../scripts/cloud/setup.ts";
import type { RunResult } from "../../scripts/cloud/state.ts";
import { fixedUpToml, ROOT, writeConfig } from "./cloud/support.ts";

const PARTIAL = join(ROOT, "test/unit/cloud/partial-state.json");
const COMPLETE = join(ROOT, "test/unit/cloud/complete-state.json");
const ORIGIN = "postgres://loader:s3cret@redshift.acme.internal:5439/tally";
const options = (o: Partial<CliOptions>): CliOptions => ({
  env: "production",
  dryRun: false,
  statePath: PARTIAL,
  configPath: join(ROOT, "wrangler.toml"),
  ...o,
});

/** Records every wrangler call; `fail` makes calls starting with it fail. */
function recorder(fail?: string, stdout = "") {
  const calls: string[][] = [];
  const lines: string[] = [];
  const run = (args: string[]): RunResult => {
    calls.push(args);
    const failed = fail !== undefined && args.join(" ").startsWith(fail);
    return failed
      ? { status: 1, stdout: "", stderr: "✘ [ERROR] A request to the Cloudflare API failed." }
      : { status: 0, stdout, stderr: "" };
  };
  return { calls, lines, out: (t: string) => lines.push(t), run };
}

describe("setup:cloud applying its plan", () => {
  it("runs each command in order, then lists what is left by hand", () => {
    const r = recorder();
    expect(runSetup(options({}), { wrangler: r.run, apply: r.run, out: r.out, processEnv: {} })).toBe(0);
    expect(r.calls.map((c) => c.join(" "))).toEqual([
      "queues create tally-events-dlq",
      "r2 bucket lifecycle add tally-archive tally-archive-cold events/ --ia-transition-days 90",
      "r2 bucket lifecycle add tally-archive tally-archive-retention events/ --expire-days 730",
    ]);
    expect(r.lines.join("\n")).toContain("npx wrangler secret put WS_TOKEN_SECRET --env production");
  });

  it("stops at the first failure, naming it", () => {
    const r = recorder("r2 bucket lifecycle add tally-archive tally-archive-cold");
    expect(runSetup(options({}), { wrangler: r.run, apply: r.run, out: r.out, processEnv: {} })).toBe(1);
    expect(r.calls).toHaveLength(2);
    expect(r.lines.at(-1)).toBe(
      "setup:cloud: that failed (A request to the Cloudflare API failed.); nothing after it ran.",
    );
  });

  it("creates the Hyperdrive config with the connection string, prints its id, never the password", () => {
    const r = recorder(undefined, "✅ Created new Hyperdrive PostgreSQL config: 0123456789abcdef0123456789abcdef\n");
    const noHyperdrive = writeConfig(
      fixedUpToml().replace(/id = "[0-9a-f]{32}"/g, 'id = "00000000000000000000000000000000"'),
    );
    const code = runSetup(options({ statePath: COMPLETE, configPath: noHyperdrive }), {
      wrangler: r.run,
      apply: r.run,
      out: r.out,
      processEnv: { WAREHOUSE_ORIGIN_URL: ORIGIN },
    });
    expect(code).toBe(0);
    // The account already has tally-production-warehouse: nothing is created, its id is handed over.
    expect(r.calls).toEqual([]);
    expect(r.lines.join("\n")).toContain('put id = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718"');

    const fresh = recorder(
      undefined,
      "✅ Created new Hyperdrive PostgreSQL config: 0123456789abcdef0123456789abcdef\n",
    );
    // partial-state.json has no tally-staging-warehouse (nor staging's other resources).
    const staging = options({ env: "staging", configPath: noHyperdrive });
    runSetup(staging, {
      wrangler: fresh.run,
      apply: fresh.run,
      out: fresh.out,
      processEnv: { WAREHOUSE_ORIGIN_URL: ORIGIN },
    });
    expect(fresh.calls).toContainEqual([
      "hyperdrive",
      "create",
      "tally-staging-warehouse",
      "--caching-disabled",
      `--connection-string=${ORIGIN}`,
    ]);
    expect(fresh.lines).toContain(
      'Created Hyperdrive tally-staging-warehouse: id = "0123456789abcdef0123456789abcdef"',
    );
    expect(fresh.lines.join("\n")).not.toContain("s3cret");
  });
});

describe("deploy", () => {
  it("runs wrangler deploy for the environment once the check passes and the bundle builds", () => {
    const r = recorder();
    const config = writeConfig(fixedUpToml());
    expect(
      runDeploy(options({ statePath: COMPLETE, configPath: config }), { wrangler: r.run, apply: r.run, out: r.out }),
    ).toBe(0);
    expect(r.calls.map((c) => c.slice(0, 2).join(" "))).toEqual(["deploy --dry-run", "deploy --env"]);
    expect(r.calls.at(-1)).toEqual(["deploy", "--env", "production", "-c", config]);
  });

  it("deploys nothing when the check names a problem", () => {
    const r = recorder();
    expect(runDeploy(options({ statePath: PARTIAL }), { wrangler: r.run, apply: r.run, out: r.out })).toBe(1);
    expect(r.calls.map((c) => c.slice(0, 2).join(" "))).toEqual(["deploy --dry-run"]);
  });
});
