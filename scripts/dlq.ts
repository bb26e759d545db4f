/**
 * `npm run dlq -- list|show <id>|replay <id>|replay --all|drop <id> --reason "…"|audit`: the dead
 * letters the events queues gave up on (issue #18), through the admin routes under
 * /api/v1/ops/dead-letters. Options and exit codes: `--help` (scripts/dlq/cli.ts).
 */
import { existsSync, readFileSync } from "node:fs";
import { ApiError, parseCli, runCli, USAGE, UsageError } from "./dlq/cli.ts";

const devVars = () => (existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : null);

try {
  const options = parseCli(process.argv.slice(2), process.env, devVars);
  if (options === "help") process.stdout.write(`${USAGE}\n`);
  else await runCli(options, fetch, (text) => process.stdout.write(`${text}\n`));
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`dlq: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`dlq: ${error instanceof ApiError ? error.message : String(error)}\n`);
  process.exit(1);
}
