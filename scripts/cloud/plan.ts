/**
 * `npm run setup:cloud`'s plan, pure: what an environment names (queues of every events shard and
 * their dead-letter queues, the archive bucket with its lifecycle, the warehouse's Hyperdrive
 * configuration, its secrets) against what exists, giving only what is missing. Applying the plan
 * and planning again gives nothing new.
 */
import { archiveLifecycleRules } from "../../core/archive/layout.ts";
import { type EnvConfig, eventsQueues, isPlaceholderId, requiredSecrets, section } from "./env-config.ts";
import type { CloudState, LifecycleRule } from "./state.ts";

/** The variable holding the warehouse's connection string (it carries a password, so not in argv shown). */
export const ORIGIN_URL_VAR = "WAREHOUSE_ORIGIN_URL";

/** A wrangler command the plan runs; `shown` replaces a secret argument when printed. */
export interface Command {
  args: string[];
  shown?: string[];
  /** What it creates, in the resource's own words (for the state it leads to). */
  creates:
    | { kind: "queue"; name: string }
    | { kind: "bucket"; name: string }
    | { kind: "lifecycle"; bucket: string; rule: LifecycleRule }
    | { kind: "lifecycle-removal"; bucket: string; name: string }
    | { kind: "hyperdrive"; name: string }
    | { kind: "hyperdrive-uncached"; id: string };
}

export interface Plan {
  env: string;
  worker: string;
  /** Run by setup:cloud, in order (a bucket before its rules). */
  commands: Command[];
  /** Left to the user: secrets to put (values only they have), an id to write into wrangler.toml. */
  manual: string[];
  /** What cannot be planned until the user supplies something; each says what. */
  blocked: string[];
  notes: string[];
}

/** How a planned command is printed: runnable as it stands in the project's folder. */
export const shown = (c: Command) => ["npx", "wrangler", ...(c.shown ?? c.args)].map(quote).join(" ");
const quote = (a: string) => (/^[\w@%+=:,./$"-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);

/** The Hyperdrive configuration setup:cloud creates for an environment's warehouse. */
export const hyperdriveName = (config: EnvConfig) => `${config.worker}-warehouse`;

/** Wrangler's words for an S3 lifecycle rule's actions, as `lifecycle list` prints them. */
function ruleActions(rule: ReturnType<typeof archiveLifecycleRules>["Rules"][number]): string[] {
  return [
    ...(rule.Expiration ? [`Expire objects after ${rule.Expiration.Days} days`] : []),
    ...(rule.Transitions ?? []).map((t) => `Transition to Infrequent Access after ${t.Days} days`),
  ];
}

function ruleArgs(rule: ReturnType<typeof archiveLifecycleRules>["Rules"][number]): string[] {
  return [
    ...(rule.Transitions ?? []).flatMap((t) => ["--ia-transition-days", String(t.Days)]),
    ...(rule.Expiration ? ["--expire-days", String(rule.Expiration.Days)] : []),
  ];
}

/** The bucket's lifecycle (README "Event archive"): a rule counts as there when one enabled rule does the same. */
function lifecycleCommands(bucket: string, retentionDays: number, existing: LifecycleRule[]): Command[] {
  const commands: Command[] = [];
  for (const rule of archiveLifecycleRules(retentionDays).Rules) {
    const want: LifecycleRule = {
      name: rule.ID,
      enabled: true,
      prefix: rule.Filter.Prefix,
      actions: ruleActions(rule),
    };
    const done = existing.some(
      (r) => r.enabled && r.prefix === want.prefix && want.actions.every((a) => r.actions.includes(a)),
    );
    if (done) continue;
    // Our rule under its name but with other days (ARCHIVE_RETENTION_DAYS changed): replaced.
    if (existing.some((r) => r.name === want.name))
      commands.push({
        args: ["r2", "bucket", "lifecycle", "remove", bucket, "--name", want.name],
        creates: { kind: "lifecycle-removal", bucket, name: want.name },
      });
    commands.push({
      args: ["r2", "bucket", "lifecycle", "add", bucket, want.name, want.prefix, ...ruleArgs(rule)],
      creates: { kind: "lifecycle", bucket, rule: want },
    });
  }
  return commands;
}

/**
 * The plan for `config` (an `[env.*]`) given what exists. `originUrl` is WAREHOUSE_ORIGIN_URL's
 * value: the warehouse's connection string for a Hyperdrive configuration still to create.
 */
export function planSetup(config: EnvConfig, state: CloudState, originUrl: string | undefined): Plan {
  const env = config.env ?? "";
  const plan: Plan = { env, worker: config.worker, commands: [], manual: [], blocked: [], notes: [] };

  const dlqs = config.consumers.flatMap((c) => (c.deadLetterQueue ? [c.deadLetterQueue] : []));
  for (const queue of new Set([...eventsQueues(config), ...config.producers.map((p) => p.queue), ...dlqs]))
    if (!state.queues.includes(queue))
      plan.commands.push({ args: ["queues", "create", queue], creates: { kind: "queue", name: queue } });

  const retention = Number(config.vars.ARCHIVE_RETENTION_DAYS ?? "730");
  for (const bucket of new Set(config.buckets.map((b) => b.bucket))) {
    if (!state.buckets.includes(bucket))
      plan.commands.push({ args: ["r2", "bucket", "create", bucket], creates: { kind: "bucket", name: bucket } });
    if (Number.isInteger(retention) && retention > 0)
      plan.commands.push(...lifecycleCommands(bucket, retention, state.lifecycle[bucket] ?? []));
    else plan.blocked.push(`lifecycle of ${bucket}: ARCHIVE_RETENTION_DAYS is not a whole number of days`);
  }
  if (config.vars.ARCHIVE_S3_ENDPOINT)
    plan.notes.push(
      `The archive is in the S3 bucket ${config.vars.ARCHIVE_S3_BUCKET || "(ARCHIVE_S3_BUCKET)"}: give it the same lifecycle there (README "Event archive"; GLACIER_IR on AWS).`,
    );

  for (const binding of config.hyperdrive) planHyperdrive(config, binding, state, originUrl, plan);

  const secrets = new Set(state.worker.secrets);
  for (const name of requiredSecrets(config))
    if (!secrets.has(name)) plan.manual.push(`npx wrangler secret put ${name} --env ${env}`);

  if (config.crons.length > 0)
    plan.notes.push(
      `Cron Triggers (${config.crons.join(", ")}) are applied by \`npm run deploy\`: wrangler deploy sets the Worker's schedules from [triggers] each time${state.worker.exists ? "; the deployed Worker keeps its current ones until then" : ""}.`,
    );
  return plan;
}

function planHyperdrive(
  config: EnvConfig,
  binding: { binding: string; id: string },
  state: CloudState,
  originUrl: string | undefined,
  plan: Plan,
): void {
  const where = `[[${section(config.env, "hyperdrive")}]] binding ${binding.binding}`;
  if (!isPlaceholderId(binding.id)) {
    const bound = state.hyperdrive.find((h) => h.id === binding.id);
    if (bound) uncached(bound, plan);
    else if (state.hyperdrive.length > 0)
      plan.notes.push(`${where}: id ${binding.id} is not among this account's Hyperdrive configurations.`);
    return;
  }
  const name = hyperdriveName(config);
  const existing = state.hyperdrive.find((h) => h.name === name);
  if (existing) {
    uncached(existing, plan);
    plan.manual.push(`put id = "${existing.id}" (Hyperdrive ${name}) in ${where}`);
    return;
  }
  // Uncached: Hyperdrive caches reads for 60 s by default, and the warehouse's jobs read their own
  // ledgers (job_runs, frontiers) and the query API the frontier through this binding, where a stale
  // read reloads hours or answers from a frontier that moved. Query answers have their own cache (Upstash).
  const args = ["hyperdrive", "create", name, "--caching-disabled"];
  if (!originUrl) {
    plan.blocked.push(
      `Hyperdrive ${name} for ${where}: set ${ORIGIN_URL_VAR}=postgres://user:password@<redshift-endpoint>:5439/<database> and run again (it runs ${shown({ args: [...args, `--connection-string="$${ORIGIN_URL_VAR}"`], creates: { kind: "hyperdrive", name } })}), or remove the binding for no warehouse`,
    );
    return;
  }
  plan.commands.push({
    args: [...args, `--connection-string=${originUrl}`],
    shown: [...args, `--connection-string="$${ORIGIN_URL_VAR}"`],
    creates: { kind: "hyperdrive", name },
  });
  plan.manual.push(`put the id \`hyperdrive create\` prints (Hyperdrive ${name}) in ${where}`);
}

/** A configuration made before (or by hand) with Hyperdrive's default 60 s cache loses it (see planHyperdrive). */
function uncached(config: CloudState["hyperdrive"][number], plan: Plan): void {
  if (config.caching !== undefined && config.caching !== "disabled")
    plan.commands.push({
      args: ["hyperdrive", "update", config.id, "--caching-disabled"],
      creates: { kind: "hyperdrive-uncached", id: config.id },
    });
}

/** The plan as a shell script: its commands as lines to run, everything else as comments. */
export function formatPlan(plan: Plan, stateSource: string): string {
  const lines = [`# setup:cloud --env ${plan.env} (Worker ${plan.worker}); state: ${stateSource}`];
  if (plan.commands.length === 0)
    lines.push("# Nothing to create: every queue, bucket, lifecycle rule and Hyperdrive configuration exists.");
  else lines.push("# Creates what is missing:", ...plan.commands.map(shown));
  return [...lines, ...formatFollowUp(plan)].join("\n");
}

/** What is left after the commands: the user's steps, what is blocked and why, notes. */
export function formatFollowUp(plan: Plan): string[] {
  const lines: string[] = [];
  if (plan.manual.length > 0)
    lines.push("# Then, by hand (each secret put prompts for its value):", ...plan.manual.map(manualLine));
  for (const b of plan.blocked) lines.push(`# Blocked: ${b}`);
  for (const n of plan.notes) lines.push(`# ${n}`);
  return lines;
}

const manualLine = (m: string) => (m.startsWith("npx ") ? m : `# ${m}`);
