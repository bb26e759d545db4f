/**
 * The dashboard's `_headers` (issue #17): the build writes it next to index.html, and its CSP allows
 * exactly the inline scripts of the built page, by hashes computed here independently of the build's
 * own code. Builds into a temporary folder, like the size budget, so it checks the current source.
 */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardCsp } from "../../web/dashboard/headers.ts";

const outDir = mkdtempSync(join(tmpdir(), "tally-dashboard-csp-"));
let html = "";
let rules: Map<string, Map<string, string>>;

/** `_headers` as Cloudflare reads it: a URL pattern line, then indented `Name: value` lines. */
function parseHeadersFile(text: string): Map<string, Map<string, string>> {
  const parsed = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split("\n")) {
    if (!line.trim() || line.trimStart().startsWith("#")) continue;
    if (!/^\s/.test(line)) {
      current = new Map();
      parsed.set(line.trim(), current);
      continue;
    }
    const at = line.indexOf(":");
    current?.set(line.slice(0, at).trim().toLowerCase(), line.slice(at + 1).trim());
  }
  return parsed;
}

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(";").map((d) => {
      const [name = "", ...sources] = d.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

beforeAll(async () => {
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
  html = readFileSync(join(outDir, "index.html"), "utf8");
  rules = parseHeadersFile(readFileSync(join(outDir, "_headers"), "utf8"));
}, 60_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe("dashboard _headers", () => {
  it("has one rule for every path, with framing, sniffing and referrer protection", () => {
    expect([...rules.keys()]).toEqual(["/*"]);
    const all = rules.get("/*");
    expect(all?.get("x-frame-options")).toBe("DENY");
    expect(all?.get("x-content-type-options")).toBe("nosniff");
    expect(all?.get("referrer-policy")).toBe("no-referrer");
  });

  it("allows scripts from the origin plus exactly the built page's inline scripts, by SHA-256", () => {
    const csp = directives(rules.get("/*")?.get("content-security-policy") ?? "");
    const inline = [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    // index.html's theme script, run before first paint: a test that hashes nothing proves nothing.
    expect(inline.length).toBeGreaterThan(0);
    expect(csp.get("script-src")?.sort()).toEqual(["'self'", ...inline.map(sha256)].sort());
  });

  it("is strict: same origin by default, nothing inline or eval'd, never framed, no <base>, no plugins", () => {
    const csp = directives(rules.get("/*")?.get("content-security-policy") ?? "");
    expect(csp.get("default-src")).toEqual(["'self'"]);
    expect(csp.get("style-src")).toEqual(["'self'"]);
    expect(csp.get("connect-src")).toEqual(["'self'"]);
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.get("base-uri")).toEqual(["'none'"]);
    expect(csp.get("object-src")).toEqual(["'none'"]);
    expect(csp.get("form-action")).toEqual(["'self'"]);
    expect([...csp.values()].flat().filter((s) => /unsafe|\*|^https?:$/.test(s))).toEqual([]);
  });

  it("follows the inline script: an edited one gets a different hash, so a stale file would be caught", () => {
    const edited = html.replace(/(<script>)([\s\S]*?)(<\/script>)/, "$1$2;$3");
    expect(edited).not.toBe(html);
    expect(dashboardCsp(edited)).not.toBe(dashboardCsp(html));
    expect(dashboardCsp(html)).toBe(rules.get("/*")?.get("content-security-policy"));
  });
});
