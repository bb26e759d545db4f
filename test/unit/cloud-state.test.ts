/**
 * Reading what exists on Cloudflare (scripts/cloud/state.ts) from wrangler's own output formats:
 * cli-table3 tables (`queues list`, `hyperdrive list`), `label: value` blocks (`r2 bucket list`,
 * `r2 bucket lifecycle list`) and `secret list`'s JSON; a Worker not deployed yet; a wrangler that
 * is not logged in. The sample outputs are wrangler 4.164's, as its code prints them.
 */
import { describe, expect, it } from "vitest";
import { readEnvConfig } from "../../scripts/cloud/env-config.ts";
import { parseLifecycle, parseTable, type RunResult, readState, StateUnreadable } from "../../scripts/cloud/state.ts";
import { SHIPPED } from "./cloud/support.ts";

const QUEUES_PAGE_1 = `
┌──────────────────────────────────┬──────────────────┬──────────────────────────┬──────────────────────────┬───────────┬───────────┐
│ id                               │ name             │ created_on               │ modified_on              │ producers │ consumers │
├──────────────────────────────────┼──────────────────┼──────────────────────────┼──────────────────────────┼───────────┼───────────┤
│ 5e1b9969eb974d8c99c48d19df104c7a │ tally-events     │ 2026-11-30T10:00:00.000Z │ 2026-11-30T10:00:00.000Z │ 1         │ 1         │
├──────────────────────────────────┼──────────────────┼──────────────────────────┼──────────────────────────┼───────────┼───────────┤
│ 7a2c4e0f0e2b4c55b2d8a3c9f1e0d6b4 │ tally-events-dlq │ 2026-11-30T10:00:00.000Z │ 2026-11-30T10:00:00.000Z │ 0         │ 1         │
└──────────────────────────────────┴──────────────────┴──────────────────────────┴──────────────────────────┴───────────┴───────────┘`;
const HYPERDRIVE = `📋 Listing Hyperdrive configs
┌──────────────────────────────────┬────────────────────────────┬────────┬──────────────────────┬──────┬────────────┬──────────┬─────────┬──────┬─────────────────────────┐
│ id                               │ name                       │ user   │ host                 │ port │ scheme     │ database │ caching │ mtls │ origin_connection_limit │
├──────────────────────────────────┼────────────────────────────┼────────┼──────────────────────┼──────┼────────────┼──────────┼─────────┼──────┼─────────────────────────┤
│ 3f1c2b7a9d8e4f60a1b2c3d4e5f60718 │ tally-production-warehouse │ loader │ redshift.acme.internal │ 5439 │ PostgreSQL │ tally    │ enabled │      │                         │
└──────────────────────────────────┴────────────────────────────┴────────┴──────────────────────┴──────┴────────────┴──────────┴─────────┴──────┴─────────────────────────┘`;
const BUCKETS = `Listing buckets...
name:           tally-archive
creation_date:  2026-11-30T10:00:00.000Z

name:           tally-staging-archive
creation_date:  2026-11-30T10:00:00.000Z`;
const LIFECYCLE = `Listing lifecycle rules for bucket 'tally-archive'...
name:     archive-cold
enabled:  Yes
prefix:   events/
action:   Transition to Infrequent Access after 90 days

name:     multipart
enabled:  No
prefix:   (all prefixes)
action:   Abort incomplete multipart uploads after 7 days, Expire objects after 730 days`;
const NOT_LOGGED_IN =
  "\u001b[31m✘ \u001b[41;31m[\u001b[41;97mERROR\u001b[41;31m]\u001b[0m \u001b[1mIn a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work. Please go to https://developers.cloudflare.com/ for instructions.\u001b[0m\n";

const ok = (stdout: string): RunResult => ({ status: 0, stdout, stderr: "" });
const production = readEnvConfig(SHIPPED, "production");

/** A wrangler that answers each command from a table, recording what it was asked. */
function fakeWrangler(answers: Record<string, RunResult>) {
  const calls: string[] = [];
  const run = (args: string[]) => {
    const key = args.join(" ");
    calls.push(key);
    const match = Object.keys(answers).find((k) => key.startsWith(k));
    return match ? (answers[match] as RunResult) : { status: 1, stdout: "", stderr: `unexpected: ${key}` };
  };
  return { run, calls };
}

describe("wrangler's output", () => {
  it("reads a table's rows by its header, colours stripped", () => {
    expect(parseTable(`\u001b[90m${QUEUES_PAGE_1}\u001b[39m`).map((r) => r.name)).toEqual([
      "tally-events",
      "tally-events-dlq",
    ]);
    expect(parseTable("")).toEqual([]);
  });

  it("reads lifecycle rules with each action, the whole bucket as an empty prefix", () => {
    expect(parseLifecycle(LIFECYCLE)).toEqual([
      {
        name: "archive-cold",
        enabled: true,
        prefix: "events/",
        actions: ["Transition to Infrequent Access after 90 days"],
      },
      {
        name: "multipart",
        enabled: false,
        prefix: "",
        actions: ["Abort incomplete multipart uploads after 7 days", "Expire objects after 730 days"],
      },
    ]);
  });
});

describe("readState", () => {
  it("reads queues page by page, buckets, the bound bucket's lifecycle, Hyperdrive and the secrets", () => {
    const { run, calls } = fakeWrangler({
      "queues list --page 1": ok(QUEUES_PAGE_1),
      "queues list --page 2": ok(""),
      "r2 bucket list": ok(BUCKETS),
      "r2 bucket lifecycle list tally-archive": ok(LIFECYCLE),
      "hyperdrive list": ok(HYPERDRIVE),
      "secret list": ok('[\n  {\n    "name": "ADMIN_TOKEN",\n    "type": "secret_text"\n  }\n]\n'),
    });
    const state = readState(production, run, "wrangler.toml");
    expect(state).toMatchObject({
      queues: ["tally-events", "tally-events-dlq"],
      buckets: ["tally-archive", "tally-staging-archive"],
      hyperdrive: [{ id: "3f1c2b7a9d8e4f60a1b2c3d4e5f60718", name: "tally-production-warehouse", caching: "enabled" }],
      worker: { exists: true, secrets: ["ADMIN_TOKEN"] },
    });
    expect(Object.keys(state.lifecycle)).toEqual(["tally-archive"]);
    expect(calls.at(-1)).toBe("secret list --format json -c wrangler.toml --env production");
  });

  it("takes a Worker wrangler does not find as not deployed yet, with no secrets", () => {
    const { run } = fakeWrangler({
      "queues list": ok(""),
      "r2 bucket list": ok(""),
      "hyperdrive list": ok(""),
      "secret list": {
        status: 1,
        stdout: "",
        stderr:
          '✘ [ERROR] Worker "tally-production" (env: production) not found.\n\nIf this is a new Worker, run `wrangler deploy` first to create it.',
      },
    });
    expect(readState(production, run, "wrangler.toml")).toMatchObject({
      queues: [],
      buckets: [],
      worker: { exists: false, secrets: [] },
    });
  });

  it("stops at the first command that fails, saying which and wrangler's first sentence", () => {
    const { run, calls } = fakeWrangler({ "queues list": { status: 1, stdout: "", stderr: NOT_LOGGED_IN } });
    expect(() => readState(production, run, "wrangler.toml")).toThrow(
      new StateUnreadable(
        "wrangler queues list: In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.",
      ),
    );
    expect(calls).toEqual(["queues list --page 1"]);
  });
});
