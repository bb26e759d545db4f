/**
 * `npm run setup:cloud -- --env <name> [--dry-run] [--state <file.json>]`: creates, idempotently,
 * what a wrangler.toml environment names (queues and DLQs, the archive bucket and its lifecycle,
 * the warehouse's Hyperdrive configuration) and lists its secrets to put (scripts/cloud/setup.ts).
 * Usage mistakes exit 2, a failed or blocked step 1.
 */
import { runCommand } from "./cloud/cli.ts";
import { runSetup } from "./cloud/setup.ts";
import { runWrangler } from "./cloud/wrangler.ts";

runCommand("setup:cloud", (options) =>
  runSetup(options, {
    wrangler: (args) => runWrangler(args),
    apply: (args) => runWrangler(args, true),
    out: (text) => process.stdout.write(`${text}\n`),
    processEnv: process.env,
  }),
);
