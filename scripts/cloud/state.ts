/**
 * What already exists on the Cloudflare account, as setup:cloud and deploy read it: a zod contract
 * (a `--state file.json` snapshot has the same shape) and parsers of the wrangler commands that
 * report it. Wrangler offers JSON only for `secret list`; the others print a table (cli-table3) or
 * `label: value` blocks, parsed here by their column and label names.
 */
import { stripVTControlCharacters } from "node:util";
import { z } from "zod";
import type { EnvConfig } from "./env-config.ts";

/** A bucket's lifecycle rule as `wrangler r2 bucket lifecycle list` shows it. */
export const LifecycleRuleSchema = z.object({
  name: z.string(),
  enabled: z.boolean().default(true),
  /** "" for every prefix. */
  prefix: z.string().default(""),
  /** Wrangler's wording, e.g. "Expire objects after 730 days", "Transition to Infrequent Access after 90 days". */
  actions: z.array(z.string()),
});
export type LifecycleRule = z.infer<typeof LifecycleRuleSchema>;

export const CloudStateSchema = z.object({
  queues: z.array(z.string()).default([]),
  buckets: z.array(z.string()).default([]),
  /** Rules by bucket name, for the buckets that exist. */
  lifecycle: z.record(z.string(), z.array(LifecycleRuleSchema)).default({}),
  /** `caching` as `hyperdrive list` shows it ("disabled", "enabled", "max_age: …"); absent: unknown. */
  hyperdrive: z.array(z.object({ id: z.string(), name: z.string(), caching: z.string().optional() })).default([]),
  /** The environment's Worker: whether it exists yet, and the names of its secrets. */
  worker: z.object({ exists: z.boolean(), secrets: z.array(z.string()) }).default({ exists: false, secrets: [] }),
});
export type CloudState = z.infer<typeof CloudStateSchema>;

export const emptyState = (): CloudState => CloudStateSchema.parse({});

/** The result of one wrangler command. */
export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}
/** Runs wrangler with these arguments (scripts/cloud/wrangler.ts; a fake in tests). */
export type Wrangler = (args: string[]) => RunResult;

/** Rows of a cli-table3 table (`│ id │ name │`), keyed by its header. */
export function parseTable(output: string): Record<string, string>[] {
  const rows = stripVTControlCharacters(output)
    .split("\n")
    .filter((line) => line.trimStart().startsWith("│"))
    .map((line) =>
      line
        .trim()
        .slice(1, -1)
        .split("│")
        .map((cell) => cell.trim()),
    );
  const [head, ...body] = rows;
  if (!head) return [];
  return body.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i] ?? ""])));
}

/** Blocks of `label:  value` lines separated by blank lines (`r2 bucket list`, `lifecycle list`). */
export function parseLabelled(output: string): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> | null = null;
  for (const line of stripVTControlCharacters(output).split("\n")) {
    const m = /^([a-z_]+):\s+(.*)$/.exec(line.trim());
    if (!m?.[1]) {
      current = null;
      continue;
    }
    if (!current) {
      current = {};
      blocks.push(current);
    }
    current[m[1]] = (m[2] ?? "").trim();
  }
  return blocks;
}

export function parseLifecycle(output: string): LifecycleRule[] {
  return parseLabelled(output)
    .filter((b) => b.name !== undefined)
    .map((b) => ({
      name: b.name ?? "",
      enabled: b.enabled !== "No",
      prefix: b.prefix === "(all prefixes)" ? "" : (b.prefix ?? ""),
      actions: b.action && b.action !== "(none)" ? b.action.split(", ") : [],
    }));
}

/** The error line wrangler printed, without its colours and box. */
export function wranglerError(result: RunResult): string {
  const text = stripVTControlCharacters(`${result.stderr}\n${result.stdout}`);
  const line = text.split("\n").find((l) => l.includes("[ERROR]") || l.startsWith("✘"));
  const message = (line ?? (text.trim().split("\n")[0] || `exit ${result.status}`)).replace(/^✘\s*\[ERROR\]\s*/, "");
  // Wrangler's first sentence says what failed; the rest is a how-to link.
  return message.trim().split(/(?<=\.) /)[0] ?? message;
}

export class StateUnreadable extends Error {}

function must(result: RunResult, what: string): string {
  if (result.status !== 0) throw new StateUnreadable(`${what}: ${wranglerError(result)}`);
  return result.stdout;
}

/**
 * Reads, through wrangler, what exists for one environment: queues, buckets (and the lifecycle of
 * those it binds), Hyperdrive configurations, its Worker's secrets. Throws StateUnreadable on the
 * first command that fails (not logged in, no network: the rest would fail alike).
 */
export function readState(config: EnvConfig, wrangler: Wrangler, configPath: string): CloudState {
  const queues: string[] = [];
  // `queues list` pages; an empty page ends it (bounded, in case a page repeats).
  for (let page = 1; page <= 100; page++) {
    const names = parseTable(must(wrangler(["queues", "list", "--page", String(page)]), "wrangler queues list"))
      .map((r) => r.name ?? "")
      .filter((n) => n && !queues.includes(n));
    if (names.length === 0) break;
    queues.push(...names);
  }
  const buckets = parseLabelled(must(wrangler(["r2", "bucket", "list"]), "wrangler r2 bucket list"))
    .map((b) => b.name ?? "")
    .filter(Boolean);
  const lifecycle: Record<string, LifecycleRule[]> = {};
  for (const { bucket } of config.buckets) {
    if (!buckets.includes(bucket) || lifecycle[bucket]) continue;
    const out = must(
      wrangler(["r2", "bucket", "lifecycle", "list", bucket]),
      `wrangler r2 bucket lifecycle list ${bucket}`,
    );
    lifecycle[bucket] = parseLifecycle(out);
  }
  const hyperdrive = parseTable(must(wrangler(["hyperdrive", "list"]), "wrangler hyperdrive list")).map((r) => ({
    id: r.id ?? "",
    name: r.name ?? "",
    caching: r.caching,
  }));
  return { queues, buckets, lifecycle, hyperdrive, worker: readWorker(config, wrangler, configPath) };
}

/** The Worker's secrets (`secret list` answers JSON); a Worker not deployed yet has none. */
export function readWorker(config: EnvConfig, wrangler: Wrangler, configPath: string): CloudState["worker"] {
  const args = ["secret", "list", "--format", "json", "-c", configPath];
  const result = wrangler(config.env === null ? args : [...args, "--env", config.env]);
  if (result.status !== 0) {
    if (/Worker ".*" .*not found/.test(stripVTControlCharacters(result.stderr + result.stdout)))
      return { exists: false, secrets: [] };
    throw new StateUnreadable(`wrangler secret list: ${wranglerError(result)}`);
  }
  const json = result.stdout.slice(result.stdout.indexOf("["), result.stdout.lastIndexOf("]") + 1);
  const secrets = z.array(z.object({ name: z.string() })).parse(JSON.parse(json));
  return { exists: true, secrets: secrets.map((s) => s.name) };
}
