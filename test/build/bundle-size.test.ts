/**
 * The Worker as Cloudflare would receive it (issue #19): `wrangler deploy --dry-run --outdir` bundles
 * each deployable environment exactly as `npm run deploy` uploads it, without an account. Cloudflare
 * refuses a Worker over 10 MB compressed (Workers Paid, which Queues need; 3 MB on the free plan); our
 * own budget is 1 MiB, so growth is seen long before the limit.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

const CLOUDFLARE_LIMIT_BYTES = 10 * 1000 * 1000;
const FREE_PLAN_LIMIT_BYTES = 3 * 1000 * 1000;
const BUDGET_BYTES = 1024 * 1024;

const run = promisify(execFile);
const outRoot = mkdtempSync(join(tmpdir(), "tally-bundle-"));
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

describe("the deployable Worker bundle", () => {
  it.each(["production", "staging"])(
    "%s: builds with wrangler and stays under Cloudflare's size limit",
    async (env) => {
      // wrangler checks the assets folder exists; `npm test` builds it first (pretest).
      expect(existsSync("web/dashboard/dist/index.html"), "run `npm run build:dashboard` first").toBe(true);
      const outdir = join(outRoot, env);
      const { stdout } = await run(
        "node_modules/.bin/wrangler",
        ["deploy", "--dry-run", "--outdir", outdir, "--env", env],
        {
          env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      expect(stdout).toContain("--dry-run: exiting now.");
      // Each environment deploys as its own Worker, with its own actors and queues.
      expect(readFileSync(join(outdir, "README.md"), "utf8")).toContain(`"tally-${env}"`);
      const script = readFileSync(join(outdir, "main.js"));
      const gzip = gzipSync(script, { level: 9 }).length;
      // wrangler's own figure, as it would upload it, must agree with ours within a few percent.
      const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(stdout);
      expect(reported, stdout).not.toBeNull();
      const reportedGzip = Number(reported?.[2]) * 1024;
      expect(Math.abs(reportedGzip - gzip) / gzip).toBeLessThan(0.05);
      console.log(
        `worker bundle (${env}): ${(script.length / 1e6).toFixed(2)} MB, ${(gzip / 1e6).toFixed(3)} MB gzipped` +
          ` = ${((gzip / CLOUDFLARE_LIMIT_BYTES) * 100).toFixed(1)}% of Cloudflare's 10 MB limit` +
          ` (${((gzip / FREE_PLAN_LIMIT_BYTES) * 100).toFixed(1)}% of the free plan's 3 MB), budget 1 MiB`,
      );
      expect(gzip).toBeLessThan(CLOUDFLARE_LIMIT_BYTES);
      expect(gzip).toBeLessThan(BUDGET_BYTES);
    },
  );
});
