/** The command lines of `npm run setup:cloud` and `npm run deploy`, and where their state comes from. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type EnvConfig, environmentNames, readEnvConfig } from "./env-config.ts";
import { type CloudState, CloudStateSchema, readState, StateUnreadable, type Wrangler } from "./state.ts";

export class UsageError extends Error {}

/** An entry point's shell: parses the command line, runs, and sets the exit code (usage mistakes 2). */
export function runCommand(command: string, run: (options: CliOptions) => number): void {
  try {
    const options = parseCli(process.argv.slice(2));
    if (options === "help") process.stdout.write(`${usage(command)}\n`);
    else process.exitCode = run(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${command}: ${error.message}\n\n${usage(command)}\n`);
    process.exitCode = 2;
  }
}

export interface CliOptions {
  env: string;
  dryRun: boolean;
  statePath: string | null;
  configPath: string;
}

export const usage = (command: string) =>
  `Usage: npm run ${command} -- --env <name> [--dry-run] [--state <state.json>] [--config <wrangler.toml>]
  --env      the wrangler.toml environment ([env.<name>]), e.g. staging or production
  --dry-run  print what would run, run nothing on Cloudflare
  --state    what exists on the account, as a JSON snapshot, instead of reading it with wrangler
  --config   the wrangler config file (default wrangler.toml)`;

/** The options, or "help"; throws UsageError for a mistake. */
export function parseCli(argv: string[]): CliOptions | "help" {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return "help";
  if (!values.env) throw new UsageError("--env <name> is required");
  return {
    env: values.env,
    dryRun: values["dry-run"] ?? false,
    statePath: values.state ?? null,
    configPath: values.config ?? "wrangler.toml",
  };
}

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      env: { type: "string" },
      "dry-run": { type: "boolean" },
      state: { type: "string" },
      config: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });

/** The named environment, refusing a name wrangler.toml does not declare (wrangler would deploy the top level). */
export function loadEnv(options: CliOptions): { config: EnvConfig; names: string[] } {
  const names = environmentNames(options.configPath);
  if (!names.includes(options.env))
    throw new UsageError(
      `${options.configPath} has no [env.${options.env}] (environments: ${names.join(", ") || "none"})`,
    );
  return { config: readEnvConfig(options.configPath, options.env), names };
}

export type StateSource = { state: CloudState; source: string } | { state: null; source: string };

/** What exists: the --state snapshot, else read through wrangler; unreadable gives null and why. */
export function loadState(options: CliOptions, config: EnvConfig, wrangler: Wrangler): StateSource {
  if (options.statePath) {
    const state = CloudStateSchema.parse(JSON.parse(readFileSync(options.statePath, "utf8")));
    return { state, source: `from ${options.statePath}` };
  }
  try {
    return { state: readState(config, wrangler, options.configPath), source: "read from Cloudflare" };
  } catch (error) {
    if (!(error instanceof StateUnreadable)) throw error;
    return { state: null, source: `unreadable (${error.message})` };
  }
}
