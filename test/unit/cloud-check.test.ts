/**
 * `npm run deploy`'s config check (scripts/cloud/check.ts) on configs read by wrangler's own
 * reader: the shipped production environment is refused for exactly its placeholders (and the
 * dead-letter queue name the Worker does not recognise); fixed up, it passes; each way an
 * environment can fall short of the top level, or collide with another environment, is named.
 */
import { describe, expect, it } from "vitest";
import { type CheckInput, checkEnv } from "../../scripts/cloud/check.ts";
import { type EnvConfig, readEnvConfig } from "../../scripts/cloud/env-config.ts";
import { fixedUpToml, readToml, SECRETS, SHIPPED } from "./cloud/support.ts";

const toml = fixedUpToml();
const fixed: CheckInput = {
  config: readToml(toml, "production"),
  top: readToml(toml, null),
  others: [readToml(toml, "staging")],
  secrets: SECRETS,
};
const problemsWith = (config: Partial<EnvConfig>, input: Partial<CheckInput> = {}) =>
  checkEnv({ ...fixed, ...input, config: { ...fixed.config, ...config } }).problems;
const withVars = (vars: Record<string, string>) => ({ vars: { ...fixed.config.vars, ...vars } });

describe("the shipped production environment", () => {
  it("is refused for each placeholder, and for nothing else but the dead-letter queue's name", () => {
    const result = checkEnv({
      config: readEnvConfig(SHIPPED, "production"),
      top: readEnvConfig(SHIPPED, null),
      others: [readEnvConfig(SHIPPED, "staging")],
      secrets: SECRETS,
    });
    expect(result.problems).toEqual([
      expect.stringMatching(
        /^\[env\.production\.vars\] CLICKHOUSE_URL = "https:\/\/clickhouse\.example:8443" is a placeholder/,
      ),
      expect.stringMatching(
        /^\[env\.production\.vars\] UPSTASH_REDIS_REST_URL = "https:\/\/upstash\.example" is a placeholder/,
      ),
      expect.stringMatching(/^\[env\.production\.vars\] PUBLIC_URL = "https:\/\/tally\.example\.com" is a placeholder/),
      expect.stringMatching(/^routes of \[env\.production\]: "tally\.example\.com" is a placeholder/),
      expect.stringMatching(
        /^\[\[env\.production\.hyperdrive\]\] WAREHOUSE_HYPERDRIVE has the placeholder id 0{32}: run `npm run setup:cloud -- --env production`/,
      ),
    ]);
    expect(result.warnings).toEqual([]);
  });

  it("passes once fixed up", () => {
    expect(checkEnv(fixed)).toEqual({ problems: [], warnings: [] });
  });
});

describe("an environment that falls short of the top level", () => {
  it("names a missing binding of each kind", () => {
    const bindings = { ...fixed.config.bindings, r2_buckets: [], "durable_objects.bindings": ["PROPERTY_DO"] };
    const problems = problemsWith({ bindings });
    expect(problems).toContainEqual(expect.stringMatching(/^\[\[env\.production\.r2_buckets\]\] lacks ARCHIVE_BUCKET/));
    for (const name of [
      "REGISTRY_DO",
      "SESSION_DO",
      "REPLAY_DO",
      "INGEST_DO",
      "WAREHOUSE_DO",
      "ERASURE_DO",
      "ACCOUNT_DO",
      "TEAM_DO",
    ])
      expect(problems).toContainEqual(
        expect.stringContaining(`[[env.production.durable_objects.bindings]] lacks ${name}`),
      );
    expect(problems).toHaveLength(9);
  });

  it("names a Durable Object bound to another class", () => {
    expect(problemsWith({ durableObjects: { ...fixed.config.durableObjects, SESSION_DO: "PropertyDO" } })).toEqual([
      "Durable Object binding SESSION_DO names class PropertyDO; the Worker exports it as SessionDO.",
    ]);
  });

  it("names a var the top level sets and the environment does not, and a var ConfigSchema refuses", () => {
    const { OPS_FLUSH_SECONDS: _, ...vars } = fixed.config.vars;
    expect(problemsWith({ vars: { ...vars, CLICKHOUSE_DATABASE: "tally-prod" } })).toEqual([
      '[env.production.vars] lacks OPS_FLUSH_SECONDS (the top level sets "60"): wrangler does not inherit vars, so set it.',
      expect.stringMatching(/^\[env\.production\.vars\] CLICKHOUSE_DATABASE = "tally-prod": /),
    ]);
  });

  it("names each shard's missing producer binding", () => {
    const problems = problemsWith(withVars({ EVENTS_QUEUE_SHARDS: "3" }));
    expect(problems).toEqual([
      expect.stringMatching(
        /^\[\[env\.production\.queues\.producers\]\] lacks EVENTS_QUEUE_1: EVENTS_QUEUE_SHARDS = 3 sends shard 1 there; add binding = "EVENTS_QUEUE_1", queue = "tally-events-1"/,
      ),
      expect.stringMatching(/lacks EVENTS_QUEUE_2: /),
    ]);
  });

  it("names an events consumer whose max_retries is not EVENTS_MAX_RETRIES, or that has no dead-letter queue", () => {
    expect(problemsWith(withVars({ EVENTS_MAX_RETRIES: "5" }))).toEqual([
      "[[env.production.queues.consumers]] tally-events has max_retries = 10 but EVENTS_MAX_RETRIES = 5: keep them equal, so the last attempt keeps the message's error.",
    ]);
    const consumers = fixed.config.consumers.map((c) => ({ ...c, deadLetterQueue: undefined, maxRetries: undefined }));
    expect(problemsWith({ consumers })).toEqual([
      expect.stringMatching(/tally-events has no dead_letter_queue/),
      expect.stringMatching(/tally-events has max_retries = unset \(3\) but EVENTS_MAX_RETRIES = 10/),
    ]);
  });

  it("names a ClickHouse, Upstash or S3 endpoint over plain HTTP", () => {
    expect(problemsWith(withVars({ CLICKHOUSE_URL: "http://ch.acme.io:8123" }))).toEqual([
      '[env.production.vars] CLICKHOUSE_URL = "http://ch.acme.io:8123" is plain HTTP: credentials would cross the internet in clear; use its https:// endpoint.',
    ]);
  });

  it("names a dead-letter queue the Worker would not route to the dead-letter consumer", () => {
    const consumers = fixed.config.consumers.map((c) =>
      c.deadLetterQueue
        ? { ...c, deadLetterQueue: "tally-dead" }
        : c.queue.endsWith("-dlq")
          ? { ...c, queue: "tally-dead" }
          : c,
    );
    expect(problemsWith({ consumers })).toEqual([expect.stringMatching(/^Dead-letter queue tally-dead: the Worker/)]);
  });

  it("names missing secrets from the deployed Worker's list, and only warns when it could not be read", () => {
    expect(problemsWith({}, { secrets: ["ADMIN_TOKEN"] })).toEqual(
      SECRETS.filter((s) => s !== "ADMIN_TOKEN").map(
        (s) => `Secret ${s} is not set: \`npx wrangler secret put ${s} --env production\`.`,
      ),
    );
    const unread = checkEnv({ ...fixed, secrets: null });
    expect(unread.problems).toEqual([]);
    expect(unread.warnings).toEqual([
      expect.stringContaining("npx wrangler secret put WS_TOKEN_SECRET --env production"),
    ]);
  });
});

describe("names shared between environments (account-wide)", () => {
  it("names rate-limit namespace ids equal to another environment's", () => {
    const staging = readToml(toml.replace('namespace_id = "2001"', 'namespace_id = "1001"'), "staging");
    expect(checkEnv({ ...fixed, others: [staging] }).problems).toEqual([
      "[[env.production.ratelimits]] IP_RATE_LIMITER has namespace_id 1001, as staging's IP_RATE_LIMITER: namespaces are account-wide counters, so the two would share one limit; give each environment its own ids.",
    ]);
  });

  it("names a queue or bucket another environment uses too", () => {
    const staging = {
      ...fixed.others[0],
      buckets: fixed.config.buckets,
      producers: fixed.config.producers,
    } as EnvConfig;
    expect(checkEnv({ ...fixed, others: [staging] }).problems).toEqual([
      "Queue tally-events is also staging's: each environment needs its own queues.",
      "R2 bucket tally-archive is also staging's: each environment needs its own archive.",
    ]);
  });
});
