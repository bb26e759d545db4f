/**
 * The layout's import rules (issue #13) hold in the tree: core/ is pure, production code never
 * reaches into dev tooling, the collect and query routes stay apart, adapters sit below routes,
 * consumers and actors, and actors below the consumers that call them. The checker is tested too, on synthetic files, so these tests can fail.
 */
import { describe, expect, it } from "vitest";
import {
  CORE_LIBRARIES,
  importSpecifiers,
  importsOf,
  PRODUCTION,
  packageName,
  RULES,
  readSources,
  violations,
} from "../support/import-rules.ts";

const ROOT = new URL("../..", import.meta.url).pathname;
const tree = readSources(ROOT, PRODUCTION);
const {
  corePurity,
  noTooling,
  collectApartFromQuery,
  platformBelowItsUsers,
  routesWithoutConsumers,
  actorsBelowTheirCallers,
} = RULES;

describe("the layout's import rules", () => {
  it.each(Object.values(RULES).map((rule) => [rule.name, rule] as const))(
    "hold in the current tree: %s",
    (_name, rule) => {
      expect(violations(rule, tree)).toEqual([]);
    },
  );

  it("read every production folder, each with imports to check", () => {
    for (const folder of PRODUCTION) {
      const files = tree.filter((f) => f.path.startsWith(`${folder}/`));
      expect(files.length, folder).toBeGreaterThan(0);
      expect(files.flatMap(importsOf).length, folder).toBeGreaterThan(0);
    }
  });

  it("allow core exactly the pure libraries it imports today", () => {
    const packages = tree
      .filter((f) => f.path.startsWith("core/"))
      .flatMap(importsOf)
      .filter((imp) => imp.target === null)
      .map((imp) => packageName(imp.specifier));
    expect([...new Set(packages)].sort()).toEqual([...CORE_LIBRARIES].sort());
  });
});

describe("the import checker", () => {
  it("reads static, type-only, re-exported, multi-line, side-effect, dynamic and require specifiers", () => {
    const source = [
      'import { z } from "zod";',
      'import type { Event } from "../event.ts";',
      'export { hash } from "./hash.ts";',
      "import {\n  a,\n  type B,\n} from './multi.ts';",
      'import "./side-effect.ts";',
      'const lazy = () => import("./lazy.ts");',
      'const legacy = require("legacy");',
      'const path = ["from"]; // a string is no import',
      '/** import { Hono } from "hono"; in a comment is none either */',
    ].join("\n");
    expect(importSpecifiers(source).sort()).toEqual(
      ["zod", "../event.ts", "./hash.ts", "./multi.ts", "./side-effect.ts", "./lazy.ts", "legacy"].sort(),
    );
  });

  it.each([
    ["core importing hono", corePurity, "core/query/x.ts", 'import { Hono } from "hono";'],
    ["core importing a ClickHouse type", corePurity, "core/x.ts", 'import type { C } from "@clickhouse/client-web";'],
    ["core importing @upstash/redis", corePurity, "core/x.ts", 'import { Redis } from "@upstash/redis";'],
    ["core loading @aws-sdk/* lazily", corePurity, "core/x.ts", 'const s3 = await import("@aws-sdk/client-s3");'],
    ["core importing chdb", corePurity, "core/x.ts", 'import { Session } from "chdb";'],
    ["core importing miniflare", corePurity, "core/x.ts", 'import { Miniflare } from "miniflare";'],
    ["core importing wrangler", corePurity, "core/x.ts", 'import { unstable_dev } from "wrangler";'],
    ["core importing a package it does not list", corePurity, "core/x.ts", 'import lodash from "lodash";'],
    ["core importing node:crypto", corePurity, "core/x.ts", 'import { createHash } from "node:crypto";'],
    ["core importing a Node builtin without node:", corePurity, "core/x.ts", 'import { readFileSync } from "fs";'],
    ["core importing cloudflare:workers", corePurity, "core/x.ts", 'import { env } from "cloudflare:workers";'],
    ["core importing platform/", corePurity, "core/ingest/x.ts", 'import { c } from "../../platform/config.ts";'],
    ["core re-exporting workers/", corePurity, "core/x.ts", 'export { app } from "../workers/app.ts";'],
    ["core importing hono over several lines", corePurity, "core/x.ts", 'import {\n  Hono,\n  type H,\n} from "hono";'],
    ["workers importing dev/", noTooling, "workers/collect/x.ts", 'import { e } from "../../dev/fixtures/events.ts";'],
    [
      "web importing scripts/ for effect",
      noTooling,
      "web/dashboard/src/x.tsx",
      'import "../../../scripts/demo/model.ts";',
    ],
    ["migrations loading test/", noTooling, "migrations/x.ts", 'const m = await import("../test/support/admin.ts");'],
    ["an actor importing bench/", noTooling, "durable-objects/x.ts", 'import { b } from "../bench/bundle.ts";'],
    ["core importing dev/", noTooling, "core/x.ts", 'import { prng } from "../dev/prng.ts";'],
    [
      "workers/collect importing workers/query",
      collectApartFromQuery,
      "workers/collect/x.ts",
      'import { r } from "../query/run.ts";',
    ],
    [
      "workers/query importing workers/collect",
      collectApartFromQuery,
      "workers/query/x.ts",
      'import type { P } from "../collect/pipeline.ts";',
    ],
    ["platform importing workers/", platformBelowItsUsers, "platform/x.ts", 'import { app } from "../workers/app.ts";'],
    [
      "platform importing consumers/",
      platformBelowItsUsers,
      "platform/archive/x.ts",
      'import { h } from "../../consumers/events-consumer.ts";',
    ],
    [
      "platform importing durable-objects/",
      platformBelowItsUsers,
      "platform/x.ts",
      'import { c } from "../durable-objects/client.ts";',
    ],
    [
      "a route importing consumers/",
      routesWithoutConsumers,
      "workers/query/x.ts",
      'import { b } from "../../consumers/backoff.ts";',
    ],
    [
      "an actor importing consumers/",
      actorsBelowTheirCallers,
      "durable-objects/replay-do.ts",
      'import { s } from "../consumers/events-consumer.ts";',
    ],
    [
      "a consumer importing a route",
      actorsBelowTheirCallers,
      "consumers/x.ts",
      'import { a } from "../workers/auth.ts";',
    ],
  ])("catches %s", (_what, rule, path, text) => {
    expect(violations(rule, [{ path, text }])).toHaveLength(1);
  });

  it.each([
    [
      "core importing core and zod",
      "core/query/x.ts",
      'import { z } from "zod";\nimport type { E } from "../event.ts";',
    ],
    [
      "core importing hyparquet-writer's subpath",
      "core/archive/x.ts",
      'import { w } from "hyparquet-writer/src/x.js";',
    ],
    [
      "the Worker's entry hosting the consumers",
      "workers/main.ts",
      'import { h } from "../consumers/events-consumer.ts";',
    ],
    ["workers/compat importing workers/collect", "workers/compat/x.ts", 'import { p } from "../collect/pipeline.ts";'],
    [
      "routes importing platform/ and the actors' client",
      "workers/query/x.ts",
      'import "../../platform/config.ts";\nimport "../../durable-objects/client.ts";',
    ],
    ["tests and scripts importing dev/", "test/e2e/x.test.ts", 'import { startDevStack } from "../../dev/stack.ts";'],
    [
      "the dashboard's Vite config importing node:",
      "web/dashboard/vite.config.ts",
      'import { join } from "node:path";',
    ],
  ])("lets through %s", (_what, path, text) => {
    expect(Object.values(RULES).flatMap((rule) => violations(rule, [{ path, text }]))).toEqual([]);
  });
});
