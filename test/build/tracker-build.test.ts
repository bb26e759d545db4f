/**
 * The committed web/tracker/tracker.gen.ts is what scripts/build-tracker.ts makes from the current
 * source (so a fresh clone needs no build step, and a stale bundle fails here), its hash is the SRI
 * of its code, and the README states that hash. The source typechecks as browser code (esbuild
 * does not typecheck, and no project tsconfig covers web/tracker).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { bundleTracker, describeTracker, TRACKER_MODULE, trackerModuleSource } from "../../scripts/build-tracker.ts";
import { TRACKER_CODE, TRACKER_SRI, TRACKER_VERSION } from "../../web/tracker/tracker.gen.ts";

describe("the generated tracker module", () => {
  it("is up to date with web/tracker/ (else run `npm run build:tracker`)", async () => {
    const fresh = trackerModuleSource(describeTracker(await bundleTracker()));
    expect(
      readFileSync(TRACKER_MODULE, "utf8") === fresh,
      "web/tracker/tracker.gen.ts is stale: npm run build:tracker",
    ).toBe(true);
  });

  it("typechecks as browser code: DOM, no Node types (web/tracker/tsconfig.json)", () => {
    const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
    const project = new URL("../../web/tracker/tsconfig.json", import.meta.url).pathname;
    let errors = "";
    try {
      execFileSync(process.execPath, [tsc, "-p", project], { encoding: "utf8", stdio: "pipe" });
    } catch (error) {
      errors = String((error as { stdout?: string }).stdout || error);
    }
    expect(errors).toBe("");
  }, 30_000);

  it("carries the SHA-384 of its code as SRI and version", () => {
    const digest = createHash("sha384").update(TRACKER_CODE).digest();
    expect(TRACKER_SRI).toBe(`sha384-${digest.toString("base64")}`);
    expect(TRACKER_VERSION).toBe(digest.toString("hex").slice(0, 16));
  });

  it("is a plain script: no imports, no zod, no Node", () => {
    expect(TRACKER_CODE).toMatch(/^\(\(\)=>\{/);
    expect(TRACKER_CODE).not.toMatch(/\bimport\b|\brequire\(|zod|process\./);
  });

  it("is documented in the README with its current SRI and pinned URL", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    expect(readme.includes(TRACKER_SRI), `README.md should state ${TRACKER_SRI}`).toBe(true);
    expect(readme.includes(`/t.js?v=${TRACKER_VERSION}`), `README.md should name /t.js?v=${TRACKER_VERSION}`).toBe(
      true,
    );
  });
});
