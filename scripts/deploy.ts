/**
 * `npm run deploy -- --env <name> [--dry-run] [--state <file.json>]`: checks the environment (every
 * missing binding, var, secret or leftover placeholder, each with its fix) and builds it, then runs
 * `wrangler deploy --env <name>` (scripts/cloud/deploy.ts). Usage mistakes exit 2, problems 1.
 */
import { runCommand } from "./cloud/cli.ts";
import { runDeploy } from "./cloud/deploy.ts";
import { runWrangler } from "./cloud/wrangler.ts";

runCommand("deploy", (options) =>
  runDeploy(options, {
    wrangler: (args) => runWrangler(args),
    apply: (args) => runWrangler(args, true),
    out: (text) => process.stdout.write(`${text}\n`),
  }),
);
