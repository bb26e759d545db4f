/**
 * `npm run setup:cloud -- --env <name> [--dry-run] [--state <file.json>]`: creates, idempotently,
 * what a wrangler.toml environment names (queues and DLQs, the archive bucket and its lifecycle,
 * the warehouse's Hyperdrive configuration) and lists its secrets to put (scripts/cloud/setup.ts).
 * Usage mistakes exit 2, a failed or blocked step 1.
 */
import { parseCli, UsageError, usage } from "./cloud/cli.ts";
import { runSetup } from "./cloud/setup.ts";
import { runWrangler } from "./cloud/wrangler.ts";

try {
  const options = parseCli(process.argv.slice(2));
  if (options === "help") process.stdout.write(`${usage("setup:cloud")}\n`);
  else
    process.exitCode = runSetup(options, {
      wrangler: (args) => runWrangler(args),
      apply: (args) => runWrangler(args, true),
      out: (text) => process.stdout.write(`${text}\n`),
      processEnv: process.env,
    });
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`setup:cloud: ${error.message}\n\n${usage("setup:cloud")}\n`);
  process.exitCode = 2;
}
