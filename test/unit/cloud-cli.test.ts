/**
 * `npm run setup:cloud` and `npm run deploy` as a user runs them (node scripts/…, the real wrangler
 * underneath), on the shipped wrangler.toml and a fixed-up copy, with no Cloudflare account: a
 * state snapshot (--state), or wrangler with an empty config home, which cannot log in.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCli, UsageError } from "../../scripts/cloud/cli.ts";
import { fixedUpToml, ROOT, writeConfig } from "./cloud/support.ts";

const STATE = join(ROOT, "test/unit/cloud/partial-state.json");

/** Runs a script with no Cloudflare credentials and a wrangler config home of its own (not logged in). */
function run(script: string, ...args: string[]) {
  const env: Record<string, string | undefined> = {
    ...process.env,
    XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "xdg-")),
  };
  for (const k of ["CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_ACCOUNT_ID", "WAREHOUSE_ORIGIN_URL"])
    delete env[k];
  const result = spawnSync(process.execPath, [join(ROOT, "scripts", script), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("setup:cloud", () => {
  it("--dry-run --state prints exactly the commands the snapshot lacks, then the steps by hand", () => {
    const { status, stdout } = run("setup-cloud.ts", "--env", "production", "--dry-run", "--state", STATE);
    expect(status).toBe(0);
    expect(stdout.trimEnd().split("\n")).toEqual([
      `# setup:cloud --env production (Worker tally-production); state: from ${STATE}`,
      "# Creates what is missing:",
      "npx wrangler queues create tally-events-dlq",
      "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-cold events/ --ia-transition-days 90",
      "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-retention events/ --expire-days 730",
      "# Then, by hand (each secret put prompts for its value):",
      '# put id = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718" (Hyperdrive tally-production-warehouse) in [[env.production.hyperdrive]] binding WAREHOUSE_HYPERDRIVE',
      "npx wrangler secret put CLICKHOUSE_QUERY_PASSWORD --env production",
      "npx wrangler secret put WS_TOKEN_SECRET --env production",
      "npx wrangler secret put UPSTASH_REDIS_REST_TOKEN --env production",
      "# Cron Triggers (10 * * * *, 40 * * * *) are applied by `npm run deploy`: wrangler deploy sets the Worker's schedules from [triggers] each time; the deployed Worker keeps its current ones until then.",
    ]);
  }, 60_000);

  it("says it cannot read the account, plans from an empty state in a dry run, and refuses to apply", () => {
    const dry = run("setup-cloud.ts", "--env", "staging", "--dry-run");
    expect(dry.status).toBe(0);
    expect(dry.stdout).toMatch(
      /state: unreadable \(wrangler queues list: .*CLOUDFLARE_API_TOKEN.*\); planned from an empty state/,
    );
    expect(dry.stdout).toContain("npx wrangler queues create tally-staging-events\n");
    expect(dry.stdout).toContain("# Blocked: Hyperdrive tally-staging-warehouse");
    const apply = run("setup-cloud.ts", "--env", "staging");
    expect(apply.status).toBe(1);
    expect(apply.stdout).toContain("setup:cloud: cannot read what exists on Cloudflare");
    expect(apply.stdout).not.toContain("$ npx wrangler");
  }, 60_000);

  it("refuses an environment wrangler.toml does not declare, and a missing --env, with exit 2", () => {
    const unknown = run("setup-cloud.ts", "--env", "prod", "--dry-run");
    expect([unknown.status, unknown.stderr.split("\n")[0]]).toEqual([
      2,
      "setup:cloud: wrangler.toml has no [env.prod] (environments: staging, production)",
    ]);
    expect(() => parseCli(["--dry-run"])).toThrow(new UsageError("--env <name> is required"));
    expect(() => parseCli(["--env", "production", "--force"])).toThrow(UsageError);
  }, 60_000);
});

describe("deploy", () => {
  it("--dry-run on the shipped config exits 1, naming each placeholder and each missing secret", () => {
    const { status, stdout } = run("deploy.ts", "--env", "production", "--dry-run", "--state", STATE);
    expect(status).toBe(1);
    const problems = stdout.split("\n").filter((l) => l.startsWith("✗ "));
    for (const needle of [
      'CLICKHOUSE_URL = "https://clickhouse.example:8443" is a placeholder',
      'UPSTASH_REDIS_REST_URL = "https://upstash.example" is a placeholder',
      '"tally.example.com" is a placeholder',
      'PUBLIC_URL = "https://tally.example.com" is a placeholder',
      "WAREHOUSE_HYPERDRIVE has the placeholder id",
      "Secret CLICKHOUSE_QUERY_PASSWORD is not set",
      "Secret WS_TOKEN_SECRET is not set",
      "Secret UPSTASH_REDIS_REST_TOKEN is not set",
    ])
      expect(problems).toContainEqual(expect.stringContaining(needle));
    expect(problems).toHaveLength(8);
    expect(stdout).toContain("deploy --env production: 8 problem(s) above; nothing deployed.");
  }, 120_000);

  it("--dry-run passes a fixed-up config whose secrets are set, after building it", () => {
    const config = writeConfig(fixedUpToml());
    const state = join(ROOT, "test/unit/cloud/complete-state.json");
    const { status, stdout } = run(
      "deploy.ts",
      "--env",
      "production",
      "--dry-run",
      "--config",
      config,
      "--state",
      state,
    );
    expect(stdout).toContain(
      "deploy --env production: the check passed and the bundle builds; without --dry-run this runs npx wrangler deploy --env production.",
    );
    expect(status).toBe(0);
  }, 120_000);

  it("names a bundle that does not build", () => {
    const config = writeConfig(fixedUpToml().replace('main = "workers/main.ts"', 'main = "workers/no-such-file.ts"'));
    const state = join(ROOT, "test/unit/cloud/complete-state.json");
    const { status, stdout } = run(
      "deploy.ts",
      "--env",
      "production",
      "--dry-run",
      "--config",
      config,
      "--state",
      state,
    );
    expect(status).toBe(1);
    expect(stdout).toMatch(/^✗ `wrangler deploy --dry-run` does not build: /m);
  }, 120_000);
});
