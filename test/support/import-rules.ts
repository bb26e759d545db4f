/**
 * The layout's import rules (issue #13) as data: which folder may import what, checked against the
 * import specifiers of every production file. Specifiers are read with regular expressions (static,
 * side-effect and dynamic imports, `require`), which suffices for Biome-formatted source: statements
 * end in `;`, and no import statement holds a string before its `from`. Type-only imports count too:
 * a type from another layer couples the code as much as a value does.
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, posix } from "node:path";

/** Folders whose code ships (or builds what ships). */
export const PRODUCTION = ["core", "platform", "workers", "consumers", "durable-objects", "migrations", "web"];
/** Folders for the dev machine, the CLIs, the benchmarks and the tests: production never imports them. */
export const TOOLING = ["dev", "scripts", "bench", "test"];
/**
 * The packages core/ may import: pure libraries, no I/O and no runtime API, so core runs in Node and
 * workerd alike. Everything else is refused, runtime adapters first among them (hono, @clickhouse/*,
 * @upstash/*, @aws-sdk/*, chdb, miniflare, wrangler).
 */
export const CORE_LIBRARIES = ["zod", "ua-parser-js", "isbot", "hyparquet", "hyparquet-writer", "kysely"];

/** One import: the importing file (repo-relative, `/`-separated), its specifier, and the path it names when relative. */
export interface Import {
  file: string;
  specifier: string;
  /** The repo-relative path a relative specifier resolves to (`../…` when it leaves the repo), else null. */
  target: string | null;
}

export interface Rule {
  name: string;
  breaks(imp: Import): boolean;
}

export interface SourceFile {
  path: string;
  text: string;
}

const STATIC = /^[ \t]*(?:import|export)\b[^;"'`]*?\bfrom\s*(["'])(.+?)\1/gm;
const SIDE_EFFECT = /^[ \t]*import\s*(["'])(.+?)\1/gm;
const DYNAMIC = /\b(?:import|require)\s*\(\s*(["'])(.+?)\1\s*\)/g;
const SOURCE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const SKIPPED_DIRS = new Set(["node_modules", "dist"]);

/** The module specifiers a source file imports or re-exports, in order of appearance per form. */
export function importSpecifiers(text: string): string[] {
  return [STATIC, SIDE_EFFECT, DYNAMIC].flatMap((re) => [...text.matchAll(re)].map((m) => m[2] ?? ""));
}

/** The imports of one file, relative specifiers resolved against its folder (a `?raw`-style query dropped). */
export function importsOf(file: SourceFile): Import[] {
  return importSpecifiers(file.text).map((specifier) => ({
    file: file.path,
    specifier,
    target: specifier.startsWith(".")
      ? posix.normalize(posix.join(posix.dirname(file.path), specifier.replace(/\?.*$/, "")))
      : null,
  }));
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);
const inAny = (path: string | null, folders: readonly string[]) => path !== null && folders.some((f) => under(path, f));

/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
export function packageName(specifier: string): string {
  return specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/");
}

/** Whether core/ may import this: core itself, or one of its pure libraries; no runtime module, no other layer. */
function allowedInCore(imp: Import): boolean {
  if (imp.target !== null) return under(imp.target, "core");
  if (/^[a-z][\w+.-]*:/i.test(imp.specifier)) return false; // node:, cloudflare:, any other scheme
  const name = packageName(imp.specifier);
  return !builtinModules.includes(name) && CORE_LIBRARIES.includes(name);
}

/** The rules by name, for tests that pick one; `Object.values(RULES)` is all of them. */
export const RULES = {
  corePurity: {
    name: "core/ imports only core/ and its pure libraries (no runtime module, no other layer)",
    breaks: (imp) => under(imp.file, "core") && !allowedInCore(imp),
  },
  noTooling: {
    name: "production code imports nothing from dev/, scripts/, bench/ or test/",
    breaks: (imp) => inAny(imp.file, PRODUCTION) && inAny(imp.target, TOOLING),
  },
  collectApartFromQuery: {
    name: "workers/collect and workers/query do not import each other",
    breaks: (imp) =>
      (under(imp.file, "workers/collect") && inAny(imp.target, ["workers/query"])) ||
      (under(imp.file, "workers/query") && inAny(imp.target, ["workers/collect"])),
  },
  platformBelowItsUsers: {
    name: "platform/ adapters import nothing from workers/, consumers/ or durable-objects/",
    breaks: (imp) => under(imp.file, "platform") && inAny(imp.target, ["workers", "consumers", "durable-objects"]),
  },
  routesWithoutConsumers: {
    name: "workers/ routes import nothing from consumers/ (only the Worker's entry, workers/main.ts, hosts them)",
    breaks: (imp) => under(imp.file, "workers") && imp.file !== "workers/main.ts" && inAny(imp.target, ["consumers"]),
  },
  actorsBelowTheirCallers: {
    name: "durable-objects/ and consumers/ import nothing from workers/, and the actors nothing from consumers/",
    breaks: (imp) =>
      (under(imp.file, "durable-objects") && inAny(imp.target, ["workers", "consumers"])) ||
      (under(imp.file, "consumers") && inAny(imp.target, ["workers"])),
  },
} satisfies Record<string, Rule>;

/** Every import that breaks `rule`, as `file → specifier` lines (readable as a test failure). */
export function violations(rule: Rule, files: readonly SourceFile[]): string[] {
  return files.flatMap(importsOf).flatMap((imp) => (rule.breaks(imp) ? [`${imp.file} → ${imp.specifier}`] : []));
}

/** The source files under the given top-level folders of `root`, build output and dependencies skipped. */
export function readSources(root: string, folders: readonly string[]): SourceFile[] {
  const walk = (dir: string): SourceFile[] =>
    readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return SKIPPED_DIRS.has(entry.name) || entry.name.startsWith(".") ? [] : walk(path);
      return SOURCE.test(entry.name) ? [{ path, text: readFileSync(join(root, path), "utf8") }] : [];
    });
  return folders.flatMap(walk);
}
