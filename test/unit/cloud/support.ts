/** Shared by the cloud-*.test.ts files: configs written as TOML and read by wrangler, and the state a plan leads to. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type EnvConfig, readEnvConfig } from "../../../scripts/cloud/env-config.ts";
import type { Plan } from "../../../scripts/cloud/plan.ts";
import type { CloudState } from "../../../scripts/cloud/state.ts";

export const ROOT = resolve(import.meta.dirname, "../../..");
export const SHIPPED = join(ROOT, "wrangler.toml");
export const HYPERDRIVE_ID = "3f1c2b7a9d8e4f60a1b2c3d4e5f60718";
/** The secrets the shipped environments require (`[env.*.secrets] required`). */
export const SECRETS = [
  "CLICKHOUSE_PASSWORD",
  "CLICKHOUSE_QUERY_PASSWORD",
  "ADMIN_TOKEN",
  "WS_TOKEN_SECRET",
  "UPSTASH_REDIS_REST_TOKEN",
];

/** The shipped wrangler.toml with each placeholder replaced as a user would. */
export function fixedUpToml(): string {
  return readFileSync(SHIPPED, "utf8")
    .replaceAll("https://clickhouse.example:8443", "https://ch.acme.io:8443")
    .replaceAll("https://staging.clickhouse.example:8443", "https://ch-staging.acme.io:8443")
    .replaceAll("https://upstash.example", "https://eu1-acme.upstash.io")
    .replaceAll("https://staging.upstash.example", "https://eu1-acme-staging.upstash.io")
    .replaceAll("tally.example.com", "tally.acme.io")
    .replaceAll("00000000000000000000000000000000", HYPERDRIVE_ID);
}

/**
 * A config file in a temporary folder, with main, assets and alias made absolute so wrangler
 * resolves and builds them from there as from the project.
 */
export function writeConfig(toml: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "tally-cloud-")), "wrangler.toml");
  const absolute = toml
    .replace('main = "workers/main.ts"', `main = "${join(ROOT, "workers/main.ts")}"`)
    .replace('directory = "web/dashboard/dist"', `directory = "${join(ROOT, "web/dashboard/dist")}"`)
    .replace('"./platform/archive/aws-xml-builder.js"', `"${join(ROOT, "platform/archive/aws-xml-builder.js")}"`);
  writeFileSync(path, absolute);
  return path;
}

/** `toml` with [env.production] sharded over three events queues, each with its consumer and the one DLQ. */
export function shardedToml(toml: string): string {
  const at = toml.indexOf("[env.production]");
  const dlq = /dead_letter_queue = "([^"]+)"/.exec(toml.slice(at))?.[1];
  const shard = (n: number) => `
[[env.production.queues.producers]]
binding = "EVENTS_QUEUE_${n}"
queue = "tally-events-${n}"

[[env.production.queues.consumers]]
queue = "tally-events-${n}"
max_batch_size = 100
max_batch_timeout = 1
max_retries = 10
dead_letter_queue = "${dlq}"
`;
  const production = toml
    .slice(at)
    .replace('EVENTS_QUEUE_SHARDS = "1"', 'EVENTS_QUEUE_SHARDS = "3"')
    .replace('queue = "tally-events"\n', `queue = "tally-events"\n${shard(1)}${shard(2)}`);
  return toml.slice(0, at) + production;
}

export const readToml = (toml: string, env: string | null): EnvConfig => readEnvConfig(writeConfig(toml), env);

/** What exists once every command and by-hand step of `plan` is done; created Hyperdrive configs get `id`. */
export function stateAfter(state: CloudState, plan: Plan, id = HYPERDRIVE_ID): CloudState {
  const next: CloudState = structuredClone(state);
  for (const { creates } of plan.commands) {
    if (creates.kind === "queue") next.queues.push(creates.name);
    if (creates.kind === "bucket") next.buckets.push(creates.name);
    if (creates.kind === "hyperdrive") next.hyperdrive.push({ id, name: creates.name, caching: "disabled" });
    if (creates.kind === "hyperdrive-uncached")
      next.hyperdrive = next.hyperdrive.map((h) => (h.id === creates.id ? { ...h, caching: "disabled" } : h));
    if (creates.kind === "lifecycle-removal")
      next.lifecycle[creates.bucket] = (next.lifecycle[creates.bucket] ?? []).filter((r) => r.name !== creates.name);
    if (creates.kind === "lifecycle")
      next.lifecycle[creates.bucket] = [...(next.lifecycle[creates.bucket] ?? []), creates.rule];
  }
  const put = plan.manual.flatMap((m) => /^npx wrangler secret put (\w+)/.exec(m)?.[1] ?? []);
  next.worker = { exists: next.worker.exists || put.length > 0, secrets: [...next.worker.secrets, ...put] };
  return next;
}
