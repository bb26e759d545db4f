/**
 * The dashboard's weight budget (issue #6): every JavaScript file the build emits, gzipped, is at
 * most 200 KB. Builds into a temporary folder, so it measures the current source and never races
 * the dist/ that wrangler serves.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "vite";
import { afterAll, describe, expect, it } from "vitest";

const BUDGET_BYTES = 200 * 1024;
const outDir = mkdtempSync(join(tmpdir(), "tally-dashboard-size-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("dashboard bundle", () => {
  it("ships at most 200 KB of gzipped JavaScript, all of it referenced from index.html's entry", async () => {
    // Vitest runs with NODE_ENV=test, under which React's development build would be bundled.
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = "production";
    try {
      await build({
        configFile: "web/dashboard/vite.config.ts",
        mode: "production",
        logLevel: "silent",
        build: { outDir, emptyOutDir: true },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    const assets = readdirSync(join(outDir, "assets"));
    const scripts = assets.filter((f) => f.endsWith(".js"));
    const sizes = scripts.map((f) => ({
      file: f,
      gzip: gzipSync(readFileSync(join(outDir, "assets", f)), { level: 9 }).length,
    }));
    const total = sizes.reduce((n, s) => n + s.gzip, 0);
    const css = assets
      .filter((f) => f.endsWith(".css"))
      .reduce((n, f) => n + gzipSync(readFileSync(join(outDir, "assets", f)), { level: 9 }).length, 0);
    console.log(
      `dashboard: ${(total / 1024).toFixed(1)} KB gzipped JavaScript in ${scripts.length} files (budget 200 KB), ${(css / 1024).toFixed(1)} KB gzipped CSS`,
    );
    expect(scripts.length).toBeGreaterThan(0);
    expect(total).toBeLessThanOrEqual(BUDGET_BYTES);
    const html = readFileSync(join(outDir, "index.html"), "utf8");
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/);
  }, 60_000);
});
