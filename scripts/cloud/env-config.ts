/**
 * One wrangler.toml environment as setup:cloud and deploy need it, read with wrangler's own reader
 * (`unstable_readConfig`), so environment inheritance is wrangler's: triggers and migrations are
 * inherited, vars and bindings are not.
 */
import { experimental_readRawConfig, type Unstable_Config, unstable_readConfig } from "wrangler";

/** A queue consumer's settings that the checks and the plan read. */
export interface QueueConsumer {
  queue: string;
  maxRetries: number | undefined;
  deadLetterQueue: string | undefined;
}

/** An environment (or the top level, `env: null`) flattened to plain data, so plans and checks stay pure. */
export interface EnvConfig {
  env: string | null;
  /** The Worker's name on Cloudflare (`tally-production` for `[env.production]`). */
  worker: string;
  vars: Record<string, string>;
  producers: { binding: string; queue: string }[];
  consumers: QueueConsumer[];
  buckets: { binding: string; bucket: string }[];
  hyperdrive: { binding: string; id: string }[];
  rateLimits: { name: string; namespaceId: string }[];
  /** Binding names by the wrangler.toml table that declares them (`durable_objects.bindings`, …). */
  bindings: Record<string, string[]>;
  /** Durable Object binding → class, since a binding to the wrong class is as broken as none. */
  durableObjects: Record<string, string>;
  crons: string[];
  routes: string[];
  workersDev: boolean | undefined;
  requiredSecrets: string[];
}

/** Reads `env` (null: the top level) from a wrangler config file. */
export function readEnvConfig(configPath: string, env: string | null): EnvConfig {
  return toEnvConfig(unstable_readConfig({ config: configPath, env: env ?? undefined }), env);
}

/** The `[env.*]` names a config file declares. */
export function environmentNames(configPath: string): string[] {
  return Object.keys(experimental_readRawConfig({ config: configPath }).rawConfig.env ?? {});
}

const named = (list: readonly { binding: string }[] | undefined) => (list ?? []).map((b) => b.binding);

export function toEnvConfig(config: Unstable_Config, env: string | null): EnvConfig {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.vars ?? {})) vars[k] = typeof v === "string" ? v : JSON.stringify(v);
  const doBindings = config.durable_objects?.bindings ?? [];
  return {
    env,
    worker: config.name ?? "",
    vars,
    producers: (config.queues?.producers ?? []).map((p) => ({ binding: p.binding, queue: p.queue ?? "" })),
    consumers: (config.queues?.consumers ?? []).map((c) => ({
      queue: c.queue,
      maxRetries: c.max_retries,
      deadLetterQueue: c.dead_letter_queue,
    })),
    buckets: (config.r2_buckets ?? []).map((b) => ({ binding: b.binding, bucket: b.bucket_name ?? "" })),
    hyperdrive: (config.hyperdrive ?? []).map((h) => ({ binding: h.binding, id: h.id })),
    rateLimits: (config.ratelimits ?? []).map((r) => ({ name: r.name, namespaceId: String(r.namespace_id) })),
    bindings: {
      "durable_objects.bindings": doBindings.map((b) => b.name),
      "queues.producers": named(config.queues?.producers),
      r2_buckets: named(config.r2_buckets),
      ratelimits: (config.ratelimits ?? []).map((r) => r.name),
      hyperdrive: named(config.hyperdrive),
      kv_namespaces: named(config.kv_namespaces),
      d1_databases: named(config.d1_databases),
      services: named(config.services),
      analytics_engine_datasets: named(config.analytics_engine_datasets),
    },
    durableObjects: Object.fromEntries(doBindings.map((b) => [b.name, b.class_name])),
    crons: config.triggers?.crons ?? [],
    routes: (config.routes ?? []).map((r) => (typeof r === "string" ? r : r.pattern)),
    workersDev: config.workers_dev,
    requiredSecrets: config.secrets?.required ?? [],
  };
}

/** `[env.production.vars]`, or `[vars]` for the top level: where a user fixes what a message names. */
export function section(env: string | null, table: string): string {
  return env === null ? table : `env.${env}.${table}`;
}

/** Events shard `n`'s producer binding (README "Scale": shard 0 EVENTS_QUEUE, shard n EVENTS_QUEUE_<n>). */
export function shardBinding(n: number): string {
  return n === 0 ? "EVENTS_QUEUE" : `EVENTS_QUEUE_${n}`;
}

/** The events shards this environment configures (EVENTS_QUEUE_SHARDS, 1 when absent or not a number). */
export function shardCount(config: EnvConfig): number {
  const n = Number(config.vars.EVENTS_QUEUE_SHARDS ?? "1");
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The events shards' queues, in shard order (those the environment binds). */
export function eventsQueues(config: EnvConfig): string[] {
  const queues: string[] = [];
  for (let n = 0; n < shardCount(config); n++) {
    const producer = config.producers.find((p) => p.binding === shardBinding(n));
    if (producer) queues.push(producer.queue);
  }
  return queues;
}

/** Secrets the Worker needs in this environment: `[secrets] required`, and the S3 archive's keys when it is on. */
export function requiredSecrets(config: EnvConfig): string[] {
  const names = [...config.requiredSecrets];
  if (config.vars.ARCHIVE_S3_ENDPOINT) names.push("ARCHIVE_S3_ACCESS_KEY_ID", "ARCHIVE_S3_SECRET_ACCESS_KEY");
  return [...new Set(names)];
}

/** A Hyperdrive id still the placeholder the shipped wrangler.toml holds. */
export const isPlaceholderId = (id: string) => /^0+$/.test(id);
