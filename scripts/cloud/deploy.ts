/**
 * `npm run deploy`: the config check (scripts/cloud/check.ts) and a `wrangler deploy --dry-run`
 * build of the environment, every problem named at once; then `wrangler deploy --env <name>`, or
 * with --dry-run nothing more.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkEnv } from "./check.ts";
import { type CliOptions, loadEnv, loadState } from "./cli.ts";
import { readEnvConfig } from "./env-config.ts";
import { type Wrangler, wranglerError } from "./state.ts";

export interface DeployDeps {
  wrangler: Wrangler;
  /** Runs `wrangler deploy` with its output shown as it comes. */
  apply: Wrangler;
  out: (text: string) => void;
}

/** Runs deploy; the exit code. */
export function runDeploy(options: CliOptions, deps: DeployDeps): number {
  const { config, names } = loadEnv(options);
  const top = readEnvConfig(options.configPath, null);
  const others = names.filter((n) => n !== options.env).map((n) => readEnvConfig(options.configPath, n));
  const loaded = loadState(options, config, deps.wrangler);
  const result = checkEnv({ config, top, others, secrets: loaded.state?.worker.secrets ?? null });
  if (!loaded.state) result.warnings.unshift(`What exists on Cloudflare is ${loaded.source}.`);

  const env = ["--env", options.env, "-c", options.configPath];
  const outdir = mkdtempSync(join(tmpdir(), "tally-deploy-"));
  try {
    const build = deps.wrangler(["deploy", "--dry-run", "--outdir", outdir, ...env]);
    if (build.status !== 0)
      result.problems.push(`\`wrangler deploy --dry-run\` does not build: ${wranglerError(build)}`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }

  for (const w of result.warnings) deps.out(`warning: ${w}`);
  for (const p of result.problems) deps.out(`✗ ${p}`);
  if (result.problems.length > 0) {
    deps.out(`deploy --env ${options.env}: ${result.problems.length} problem(s) above; nothing deployed.`);
    return 1;
  }
  if (options.dryRun) {
    deps.out(
      `deploy --env ${options.env}: the check passed and the bundle builds; without --dry-run this runs npx wrangler deploy --env ${options.env}.`,
    );
    return 0;
  }
  return deps.apply(["deploy", ...env]).status;
}
