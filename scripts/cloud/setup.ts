/**
 * `npm run setup:cloud`: plans what the environment lacks (scripts/cloud/plan.ts) and, unless
 * --dry-run, creates it with wrangler, one command at a time, stopping at the first failure (a
 * rerun plans only what is still missing).
 */
import { type CliOptions, loadEnv, loadState } from "./cli.ts";
import { type Command, formatFollowUp, formatPlan, ORIGIN_URL_VAR, planSetup, shown } from "./plan.ts";
import { emptyState, type Wrangler, wranglerError } from "./state.ts";

export interface SetupDeps {
  wrangler: Wrangler;
  /** Runs a command the plan applies, its output shown as it comes. */
  apply: Wrangler;
  out: (text: string) => void;
  processEnv: Record<string, string | undefined>;
}

/** Runs setup:cloud; the exit code. */
export function runSetup(options: CliOptions, deps: SetupDeps): number {
  const { config } = loadEnv(options);
  const loaded = loadState(options, config, deps.wrangler);
  if (!loaded.state && !options.dryRun) {
    deps.out(
      `setup:cloud: cannot read what exists on Cloudflare: ${loaded.source}.\nLog in (\`npx wrangler login\`, or set CLOUDFLARE_API_TOKEN) and run again; --dry-run plans from an empty state instead.`,
    );
    return 1;
  }
  const source = loaded.state ? loaded.source : `${loaded.source}; planned from an empty state`;
  const plan = planSetup(config, loaded.state ?? emptyState(), deps.processEnv[ORIGIN_URL_VAR]);
  if (options.dryRun) {
    deps.out(formatPlan(plan, source));
    return 0;
  }
  for (const command of plan.commands) {
    deps.out(`$ ${shown(command)}`);
    if (!runOne(command, deps)) return 1;
  }
  const followUp = formatFollowUp(plan);
  if (followUp.length > 0) deps.out(followUp.join("\n"));
  return plan.blocked.length > 0 ? 1 : 0;
}

function runOne(command: Command, deps: SetupDeps): boolean {
  if (command.creates.kind !== "hyperdrive") {
    const result = deps.apply(command.args);
    if (result.status !== 0) deps.out(`setup:cloud: that failed (${wranglerError(result)}); nothing after it ran.`);
    return result.status === 0;
  }
  // Captured, for the id; `shown` keeps the connection string's password out of what is printed.
  const result = deps.wrangler(command.args);
  const id = /config: ([0-9a-f]{32})/.exec(result.stdout)?.[1];
  if (result.status !== 0 || !id) {
    deps.out(`setup:cloud: hyperdrive create failed (${wranglerError(result)}); nothing after it ran.`);
    return false;
  }
  deps.out(`Created Hyperdrive ${command.creates.name}: id = "${id}"`);
  return true;
}
