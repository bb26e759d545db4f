/**
 * `npm run deploy -- --env <name> [--dry-run] [--state <file.json>]`: checks the environment (every
 * missing binding, var, secret or leftover placeholder, each with its fix) and builds it, then runs
 * `wrangler deploy --env <name>` (scripts/cloud/deploy.ts). Usage mistakes exit 2, problems 1.
 */
import { parseCli, UsageError, usage } from "./cloud/cli.ts";
import { runDeploy } from "./cloud/deploy.ts";
import { runWrangler } from "./cloud/wrangler.ts";

try {
  const options = parseCli(process.argv.slice(2));
  if (options === "help") process.stdout.write(`${usage("deploy")}\n`);
  else
    process.exitCode = runDeploy(options, {
      wrangler: (args) => runWrangler(args),
      apply: (args) => runWrangler(args, true),
      out: (text) => process.stdout.write(`${text}\n`),
    });
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`deploy: ${error.message}\n\n${usage("deploy")}\n`);
  process.exitCode = 2;
}
