/**
 * `npm run deploy`'s config check, pure: every problem with an environment, each with how to fix
 * it, so one run names them all. Wrangler inherits no vars or bindings into an environment, so the
 * top level (the dev stack) is the list of what the Worker needs.
 */
import { ConfigSchema } from "../../core/config.ts";
import { isDeadLetterQueue } from "../../core/ops/dead-letter.ts";
import { type EnvConfig, isPlaceholderId, requiredSecrets, section, shardBinding, shardCount } from "./env-config.ts";

export interface CheckInput {
  config: EnvConfig;
  /** The top level, whose vars and bindings every environment must repeat. */
  top: EnvConfig;
  /** The other `[env.*]` environments (their account-wide names and counters must differ). */
  others: EnvConfig[];
  /** The Worker's secrets as deployed; null when they could not be read. */
  secrets: string[] | null;
}

export interface CheckResult {
  problems: string[];
  warnings: string[];
}

/** Hosts reserved for examples (RFC 2606), as the shipped placeholders use them. */
const isExampleHost = (host: string) => /(^|\.)example(\.(com|net|org))?$/i.test(host.replace(/:\d+$/, ""));

const urlHost = (value: string): string | null => {
  try {
    return value.includes("://") ? new URL(value).hostname : null;
  } catch {
    return null;
  }
};

const VAR_HINTS: Record<string, string> = {
  CLICKHOUSE_URL: "your ClickHouse's HTTPS endpoint (ClickHouse Cloud or a cluster node, https://…:8443)",
  UPSTASH_REDIS_REST_URL: "your Upstash database's REST URL (empty: the Workers Cache API)",
  ARCHIVE_S3_ENDPOINT: "your S3 endpoint (empty: the ARCHIVE_BUCKET R2 binding)",
  WAREHOUSE_URL: "empty when the warehouse comes through WAREHOUSE_HYPERDRIVE",
  PUBLIC_URL: "the address your dashboard is reached at (invitations' and scheduled reports' links)",
};

/** A value stands in for every secret, long enough for ConfigSchema's 32-character minimums. */
const SECRET_PLACEHOLDER = "s".repeat(40);

export function checkEnv({ config, top, others, secrets }: CheckInput): CheckResult {
  const env = config.env ?? "";
  const problems: string[] = [];
  const warnings: string[] = [];
  const vars = `[${section(config.env, "vars")}]`;

  // Bindings: what the top level binds, the environment must bind too.
  for (const [table, names] of Object.entries(top.bindings)) {
    const have = config.bindings[table] ?? [];
    for (const name of names)
      if (!have.includes(name))
        problems.push(
          `[[${section(config.env, table)}]] lacks ${name}, which the top level binds: wrangler does not inherit bindings, so add it (with this environment's own resource).`,
        );
  }
  for (const [name, className] of Object.entries(top.durableObjects)) {
    const have = config.durableObjects[name];
    if (have && have !== className)
      problems.push(`Durable Object binding ${name} names class ${have}; the Worker exports it as ${className}.`);
  }

  // Vars: the same names as the top level, each valid for core/config.ts.
  for (const [name, value] of Object.entries(top.vars))
    if (!(name in config.vars))
      problems.push(
        `${vars} lacks ${name} (the top level sets "${value}"): wrangler does not inherit vars, so set it.`,
      );
  const withSecrets = {
    ...Object.fromEntries(requiredSecrets(config).map((s) => [s, SECRET_PLACEHOLDER])),
    ...config.vars,
  };
  const parsed = ConfigSchema.safeParse(withSecrets);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      problems.push(
        `${vars} ${issue.path.join(".")} = "${config.vars[String(issue.path[0])] ?? ""}": ${issue.message}.`,
      );
  for (const name of Object.keys(config.vars))
    if (!(name in ConfigSchema.shape)) warnings.push(`${vars} ${name} is not a var the Worker reads (core/config.ts).`);

  // Placeholders the shipped wrangler.toml holds for a user to replace.
  for (const [name, value] of Object.entries(config.vars)) {
    const host = urlHost(value);
    if (host && isExampleHost(host))
      problems.push(`${vars} ${name} = "${value}" is a placeholder: set it to ${VAR_HINTS[name] ?? "your own"}.`);
  }
  // The Worker sends passwords and tokens to these: in an environment, never over plain HTTP.
  for (const name of ["CLICKHOUSE_URL", "UPSTASH_REDIS_REST_URL", "ARCHIVE_S3_ENDPOINT"])
    if (/^http:\/\//i.test(config.vars[name] ?? ""))
      problems.push(
        `${vars} ${name} = "${config.vars[name]}" is plain HTTP: credentials would cross the internet in clear; use its https:// endpoint.`,
      );
  for (const route of config.routes)
    if (isExampleHost(route.split("/")[0] ?? ""))
      problems.push(
        `routes of [env.${env}]: "${route}" is a placeholder: use the subdomain your sites load the tracker from (its zone on this Cloudflare account; docs/production.md).`,
      );
  if (config.workersDev === false && config.routes.length === 0)
    problems.push(`[env.${env}] has workers_dev = false and no routes: the Worker would answer nowhere.`);
  for (const h of config.hyperdrive)
    if (isPlaceholderId(h.id))
      problems.push(
        `[[${section(config.env, "hyperdrive")}]] ${h.binding} has the placeholder id ${h.id}: run \`npm run setup:cloud -- --env ${env}\` and put the id it prints there (or remove the binding for no warehouse).`,
      );

  checkQueues(config, problems, warnings);
  checkAccountWide(config, others, problems);

  const needed = requiredSecrets(config);
  if (secrets === null) {
    if (needed.length > 0)
      warnings.push(
        `Could not read the Worker's secrets; make sure these are set: ${needed.map((s) => `npx wrangler secret put ${s} --env ${env}`).join("; ")}.`,
      );
  } else
    for (const s of needed)
      if (!secrets.includes(s)) problems.push(`Secret ${s} is not set: \`npx wrangler secret put ${s} --env ${env}\`.`);
  return { problems, warnings };
}

/** Every events shard has its producer and a consumer with a dead-letter queue, which has its own consumer. */
function checkQueues(config: EnvConfig, problems: string[], warnings: string[]): void {
  const producers = `[[${section(config.env, "queues.producers")}]]`;
  const consumers = `[[${section(config.env, "queues.consumers")}]]`;
  const shards = shardCount(config);
  const first = config.producers.find((p) => p.binding === shardBinding(0))?.queue ?? "events";
  const retries = Number(config.vars.EVENTS_MAX_RETRIES ?? "10");
  for (let n = 0; n < shards; n++) {
    const binding = shardBinding(n);
    const producer = config.producers.find((p) => p.binding === binding);
    if (!producer) {
      problems.push(
        `${producers} lacks ${binding}: EVENTS_QUEUE_SHARDS = ${shards} sends shard ${n} there; add binding = "${binding}", queue = "${first}-${n}" and its consumer (npm run setup:cloud creates the queue).`,
      );
      continue;
    }
    const consumer = config.consumers.find((c) => c.queue === producer.queue);
    if (!consumer) {
      problems.push(`${consumers} has none for ${producer.queue} (shard ${n}): its events would never be processed.`);
      continue;
    }
    if (!consumer.deadLetterQueue)
      problems.push(
        `${consumers} ${producer.queue} has no dead_letter_queue: what it gives up on would be lost; set the environment's DLQ.`,
      );
    if (consumer.maxRetries !== retries)
      problems.push(
        `${consumers} ${producer.queue} has max_retries = ${consumer.maxRetries ?? "unset (3)"} but EVENTS_MAX_RETRIES = ${config.vars.EVENTS_MAX_RETRIES ?? "10"}: keep them equal, so the last attempt keeps the message's error.`,
      );
  }
  for (const p of config.producers) {
    const m = /^EVENTS_QUEUE_(\d+)$/.exec(p.binding);
    if (m && Number(m[1]) >= shards)
      warnings.push(`${producers} ${p.binding} is past EVENTS_QUEUE_SHARDS = ${shards}: nothing sends to it.`);
  }
  for (const dlq of new Set(config.consumers.flatMap((c) => (c.deadLetterQueue ? [c.deadLetterQueue] : [])))) {
    if (!config.consumers.some((c) => c.queue === dlq))
      problems.push(
        `${consumers} has none for the dead-letter queue ${dlq}: dead letters would sit unkept for 4 days.`,
      );
    if (!isDeadLetterQueue(dlq))
      problems.push(
        `Dead-letter queue ${dlq}: the Worker (consumers/queue.ts) hands only "events-dlq" or a name ending in "-events-dlq" to the dead-letter consumer, so ${dlq}'s batches would be processed as events and lost after their retries; rename it.`,
      );
  }
}

/** Queues, buckets and rate-limit namespaces are the account's: two environments must not share one. */
function checkAccountWide(config: EnvConfig, others: EnvConfig[], problems: string[]): void {
  for (const other of others) {
    if (other.env === config.env) continue;
    for (const rl of config.rateLimits) {
      const same = other.rateLimits.find((o) => o.namespaceId === rl.namespaceId);
      if (same)
        problems.push(
          `[[${section(config.env, "ratelimits")}]] ${rl.name} has namespace_id ${rl.namespaceId}, as ${other.env}'s ${same.name}: namespaces are account-wide counters, so the two would share one limit; give each environment its own ids.`,
        );
    }
    const theirQueues = new Set([...other.producers.map((p) => p.queue), ...other.consumers.map((c) => c.queue)]);
    for (const q of new Set([...config.producers.map((p) => p.queue), ...config.consumers.map((c) => c.queue)]))
      if (theirQueues.has(q))
        problems.push(`Queue ${q} is also ${other.env}'s: each environment needs its own queues.`);
    for (const b of config.buckets)
      if (other.buckets.some((o) => o.bucket === b.bucket))
        problems.push(`R2 bucket ${b.bucket} is also ${other.env}'s: each environment needs its own archive.`);
  }
}
