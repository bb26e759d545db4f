/** The benches' Worker bundle: wrangler's own build (`deploy --dry-run`), for one workerd run through Miniflare's API. */
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** Bundles `entry` into `outdir` (inside the project: workerd refuses module paths that climb out of the working directory); returns the script's path. */
export function bundleWorker(entry: string, outdir: string): string {
  const wrangler = join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
  execFileSync(process.execPath, [wrangler, "deploy", entry, "--dry-run", "--outdir", outdir], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return join(outdir, basename(entry).replace(/\.ts$/, ".js"));
}
