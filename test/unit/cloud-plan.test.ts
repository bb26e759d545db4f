/**
 * `npm run setup:cloud`'s plan (scripts/cloud/plan.ts) for configs read by wrangler's own reader:
 * the shipped production environment and one sharded over three queues. From nothing it is exactly
 * the expected command list; from the state applying it leads to, nothing; from a partial state,
 * only the rest.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { readEnvConfig } from "../../scripts/cloud/env-config.ts";
import { type Plan, planSetup, shown } from "../../scripts/cloud/plan.ts";
import { type CloudState, emptyState } from "../../scripts/cloud/state.ts";
import { HYPERDRIVE_ID, readToml, SECRETS, SHIPPED, shardedToml, stateAfter } from "./cloud/support.ts";

const production = readEnvConfig(SHIPPED, "production");
const sharded = readToml(shardedToml(readFileSync(SHIPPED, "utf8")), "production");
const ORIGIN = "postgres://loader:s3cret@redshift.acme.internal:5439/tally";
const commands = (plan: Plan) => plan.commands.map(shown);
const secretLines = (names: string[]) => names.map((n) => `npx wrangler secret put ${n} --env production`);
const ARCHIVE_RULES = [
  "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-cold events/ --ia-transition-days 90",
  "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-retention events/ --expire-days 730",
];

describe("the shipped production environment", () => {
  it("plans every queue, the bucket and its lifecycle, the Hyperdrive config and the secrets from nothing", () => {
    const plan = planSetup(production, emptyState(), ORIGIN);
    expect(commands(plan)).toEqual([
      "npx wrangler queues create tally-events",
      "npx wrangler queues create tally-events-dlq",
      "npx wrangler r2 bucket create tally-archive",
      ...ARCHIVE_RULES,
      'npx wrangler hyperdrive create tally-production-warehouse --caching-disabled --connection-string="$WAREHOUSE_ORIGIN_URL"',
    ]);
    // Uncached: the warehouse's jobs and the query API read ledgers and the frontier through it.
    expect(plan.commands.at(-1)?.args.slice(0, 4)).toEqual([
      "hyperdrive",
      "create",
      "tally-production-warehouse",
      "--caching-disabled",
    ]);
    // The password goes to wrangler, never into what is printed.
    expect(plan.commands.at(-1)?.args).toContain(`--connection-string=${ORIGIN}`);
    expect(commands(plan).join("\n")).not.toContain("s3cret");
    expect(plan.manual).toEqual([
      "put the id `hyperdrive create` prints (Hyperdrive tally-production-warehouse) in [[env.production.hyperdrive]] binding WAREHOUSE_HYPERDRIVE",
      ...secretLines(SECRETS),
    ]);
    expect(plan.blocked).toEqual([]);
    expect(plan.notes).toEqual([
      "Cron Triggers (10 * * * *, 40 * * * *) are applied by `npm run deploy`: wrangler deploy sets the Worker's schedules from [triggers] each time.",
    ]);
  });

  it("without WAREHOUSE_ORIGIN_URL, says which variable to set instead of creating the Hyperdrive config", () => {
    const plan = planSetup(production, emptyState(), undefined);
    expect(commands(plan)).not.toContainEqual(expect.stringContaining("hyperdrive"));
    expect(plan.blocked).toEqual([expect.stringContaining("set WAREHOUSE_ORIGIN_URL=postgres://")]);
  });

  it("plans nothing new once applied; only the id to write remains until wrangler.toml has it", () => {
    const first = planSetup(production, emptyState(), ORIGIN);
    const after = stateAfter(emptyState(), first);
    const second = planSetup(production, after, ORIGIN);
    expect(second.commands).toEqual([]);
    expect(second.blocked).toEqual([]);
    expect(second.manual).toEqual([
      `put id = "${HYPERDRIVE_ID}" (Hyperdrive tally-production-warehouse) in [[env.production.hyperdrive]] binding WAREHOUSE_HYPERDRIVE`,
    ]);
    const withId = { ...production, hyperdrive: [{ binding: "WAREHOUSE_HYPERDRIVE", id: HYPERDRIVE_ID }] };
    const third = planSetup(withId, after, undefined);
    expect([third.commands, third.manual, third.blocked]).toEqual([[], [], []]);
  });
});

it("turns off the cache of an existing Hyperdrive config that has Hyperdrive's default one, once", () => {
  const cached: CloudState = {
    ...emptyState(),
    hyperdrive: [{ id: HYPERDRIVE_ID, name: "tally-production-warehouse", caching: "enabled" }],
  };
  const withId = { ...production, hyperdrive: [{ binding: "WAREHOUSE_HYPERDRIVE", id: HYPERDRIVE_ID }] };
  const plan = planSetup(withId, cached, undefined);
  expect(commands(plan).filter((c) => c.includes("hyperdrive"))).toEqual([
    `npx wrangler hyperdrive update ${HYPERDRIVE_ID} --caching-disabled`,
  ]);
  expect(planSetup(withId, stateAfter(cached, plan), undefined).commands).toEqual([]);
});

describe("a config sharded over three events queues", () => {
  it("plans each shard's queue and the one dead-letter queue", () => {
    const plan = planSetup(sharded, emptyState(), ORIGIN);
    expect(commands(plan).slice(0, 4)).toEqual([
      "npx wrangler queues create tally-events",
      "npx wrangler queues create tally-events-1",
      "npx wrangler queues create tally-events-2",
      "npx wrangler queues create tally-events-dlq",
    ]);
    expect(commands(plan)).toHaveLength(8);
    const again = planSetup(sharded, stateAfter(emptyState(), plan), ORIGIN);
    expect(again.commands).toEqual([]);
  });

  it("from a partial state plans only the rest", () => {
    const partial: CloudState = {
      ...emptyState(),
      queues: ["tally-events", "tally-events-dlq", "tally-staging-events"],
      buckets: ["tally-archive"],
      lifecycle: {
        "tally-archive": [
          {
            name: "tally-archive-cold",
            enabled: true,
            prefix: "events/",
            actions: ["Transition to Infrequent Access after 90 days"],
          },
        ],
      },
      worker: { exists: true, secrets: ["ADMIN_TOKEN", "CLICKHOUSE_PASSWORD"] },
    };
    const plan = planSetup(sharded, partial, ORIGIN);
    expect(commands(plan)).toEqual([
      "npx wrangler queues create tally-events-1",
      "npx wrangler queues create tally-events-2",
      ARCHIVE_RULES[1],
      'npx wrangler hyperdrive create tally-production-warehouse --caching-disabled --connection-string="$WAREHOUSE_ORIGIN_URL"',
    ]);
    expect(plan.manual.filter((m) => m.includes("secret put"))).toEqual(
      secretLines(["CLICKHOUSE_QUERY_PASSWORD", "WS_TOKEN_SECRET", "UPSTASH_REDIS_REST_TOKEN"]),
    );
    expect(plan.notes.at(-1)).toContain("the deployed Worker keeps its current ones until then");
  });
});

describe("the archive's lifecycle", () => {
  const withRules = (rules: CloudState["lifecycle"][string]): CloudState => ({
    ...emptyState(),
    buckets: ["tally-archive"],
    lifecycle: { "tally-archive": rules },
  });
  const lifecycle = (plan: Plan) => commands(plan).filter((c) => c.includes("lifecycle"));

  it("counts README's rules under their own names as done (same prefix, same action)", () => {
    const state = withRules([
      {
        name: "archive-cold",
        enabled: true,
        prefix: "events/",
        actions: ["Transition to Infrequent Access after 90 days"],
      },
      { name: "archive-retention", enabled: true, prefix: "events/", actions: ["Expire objects after 730 days"] },
    ]);
    expect(lifecycle(planSetup(production, state, ORIGIN))).toEqual([]);
  });

  it("replaces its rule when ARCHIVE_RETENTION_DAYS changed, and does not count a disabled or other-prefix rule", () => {
    const state = withRules([
      {
        name: "tally-archive-cold",
        enabled: false,
        prefix: "events/",
        actions: ["Transition to Infrequent Access after 90 days"],
      },
      { name: "tally-archive-retention", enabled: true, prefix: "events/", actions: ["Expire objects after 730 days"] },
      { name: "everything", enabled: true, prefix: "", actions: ["Expire objects after 365 days"] },
    ]);
    const shorter = { ...production, vars: { ...production.vars, ARCHIVE_RETENTION_DAYS: "365" } };
    expect(lifecycle(planSetup(shorter, state, ORIGIN))).toEqual([
      "npx wrangler r2 bucket lifecycle remove tally-archive --name tally-archive-cold",
      "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-cold events/ --ia-transition-days 90",
      "npx wrangler r2 bucket lifecycle remove tally-archive --name tally-archive-retention",
      "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-retention events/ --expire-days 365",
    ]);
  });

  it("has no cold-storage rule when retention is not longer than 90 days", () => {
    const short = { ...production, vars: { ...production.vars, ARCHIVE_RETENTION_DAYS: "60" } };
    expect(lifecycle(planSetup(short, emptyState(), ORIGIN))).toEqual([
      "npx wrangler r2 bucket lifecycle add tally-archive tally-archive-retention events/ --expire-days 60",
    ]);
  });
});

it("lists the S3 archive's keys among the secrets when its endpoint is set", () => {
  const s3 = {
    ...production,
    vars: {
      ...production.vars,
      ARCHIVE_S3_ENDPOINT: "https://s3.eu-west-1.amazonaws.com",
      ARCHIVE_S3_BUCKET: "acme-tally",
    },
  };
  const plan = planSetup(s3, emptyState(), ORIGIN);
  expect(plan.manual).toEqual(
    expect.arrayContaining(secretLines(["ARCHIVE_S3_ACCESS_KEY_ID", "ARCHIVE_S3_SECRET_ACCESS_KEY"])),
  );
  expect(plan.notes[0]).toContain("S3 bucket acme-tally");
});
