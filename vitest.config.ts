/**
 * Test projects by runtime and cost, all run by one `vitest run` (`npm test`); pick one with `--project`:
 * - `unit` (Node): pure core and dev tools, no services; seconds.
 * - `build` (Node): what the bundles weigh and whether the committed tracker is the current build (Vite, esbuild, tsc).
 * - `integration` (Node): against the real embedded ClickHouse engine, the Upstash adapter and the local S3 server.
 * - `workers` (workerd via @cloudflare/vitest-plugin): the Worker's routes, consumers and actors.
 * - `e2e` (Node): the dev stack as a person starts it, and Chromium on the tracker and the dashboard.
 * One embedded ClickHouse and one embedded PostgreSQL (the warehouse) serve `integration` and `workers`
 * (test/support/global-setup.ts, started only when one of them runs), and one mail receiver `workers`;
 * each e2e file starts its own dev stack.
 */
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { IP_TOKEN_EVENTS, PROPERTY_TOKEN_EVENTS } from "./core/ingest/rate-limits.ts";
import { freePort } from "./dev/free-port.ts";
import { warehouseUrl } from "./dev/servers/warehouse-server.ts";
import { TEST_ADMIN_TOKEN, TEST_RATE_LIMITS } from "./test/support/admin.ts";
import { WORKERS_TEST_DATABASE } from "./test/support/global-setup.ts";

const clickhousePort = Number(process.env.TALLY_TEST_CLICKHOUSE_PORT ?? (await freePort()));
process.env.TALLY_TEST_CLICKHOUSE_PORT = String(clickhousePort);
// The Upstash adapter (dev/servers/upstash-server.ts) over the local Redis: global setup starts it on this
// port with this token; the workers project gets both as TEST_UPSTASH_* bindings.
const upstashPort = Number(process.env.TALLY_TEST_UPSTASH_PORT ?? (await freePort()));
process.env.TALLY_TEST_UPSTASH_PORT = String(upstashPort);
process.env.TALLY_TEST_UPSTASH_TOKEN ??= `test_${crypto.randomUUID()}`;
// A local S3-compatible server (s3rver) for the archive's S3 path: global setup starts it on this port;
// the workers project gets its endpoint as the TEST_ARCHIVE_S3_ENDPOINT binding.
const archiveS3Port = Number(process.env.TALLY_TEST_S3_PORT ?? (await freePort()));
process.env.TALLY_TEST_S3_PORT = String(archiveS3Port);
// The warehouse (embedded PostgreSQL): global setup starts it on this port and migrates the workers
// project's database there, which the project gets as its WAREHOUSE_URL binding.
const warehousePort = Number(process.env.TALLY_TEST_WAREHOUSE_PORT ?? (await freePort()));
process.env.TALLY_TEST_WAREHOUSE_PORT = String(warehousePort);
// The mail receiver (dev/servers/smtp-receiver.ts): global setup starts it on these ports; the workers
// project gets TEST_SMTP_URL (its SMTP side, any login) and TEST_SMTP_INBOX (its HTTP side: messages, webhook).
const smtpPort = Number(process.env.TALLY_TEST_SMTP_PORT ?? (await freePort()));
process.env.TALLY_TEST_SMTP_PORT = String(smtpPort);
const smtpInboxPort = Number(process.env.TALLY_TEST_SMTP_INBOX_PORT ?? (await freePort()));
process.env.TALLY_TEST_SMTP_INBOX_PORT = String(smtpInboxPort);

export default defineConfig({
  test: {
    globalSetup: ["./test/support/global-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    projects: [
      {
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], environment: "node" },
      },
      {
        test: { name: "build", include: ["test/build/**/*.test.ts"], environment: "node", testTimeout: 60_000 },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // The same limiters as wrangler.toml, scaled down so a test can reach them quickly.
              ratelimits: {
                IP_RATE_LIMITER: {
                  namespace_id: "1001",
                  simple: { limit: TEST_RATE_LIMITS.ip / IP_TOKEN_EVENTS, period: 60 },
                },
                PROPERTY_RATE_LIMITER: {
                  namespace_id: "1002",
                  simple: { limit: TEST_RATE_LIMITS.property / PROPERTY_TOKEN_EVENTS, period: 60 },
                },
                AUTH_FAILURE_LIMITER: { namespace_id: "1003", simple: { limit: 30, period: 60 } },
                LOOKUP_RATE_LIMITER: { namespace_id: "1004", simple: { limit: 120, period: 60 } },
              },
              // The production path to the warehouse (issue #19): test/workers/hyperdrive.test.ts swaps
              // these in for WAREHOUSE_HYPERDRIVE, through Miniflare's local Hyperdrive proxy.
              hyperdrives: {
                TEST_WAREHOUSE_HYPERDRIVE: warehouseUrl({ port: warehousePort, database: WORKERS_TEST_DATABASE }),
                TEST_CLOSED_HYPERDRIVE: "postgres://tally:tally@127.0.0.1:9/tally",
              },
              // A second events queue, so sharding can be tested (EVENTS_QUEUE_SHARDS stays 1).
              queueProducers: {
                EVENTS_QUEUE_1: { queueName: "events-1" },
              },
              bindings: {
                CLICKHOUSE_URL: `http://127.0.0.1:${clickhousePort}`,
                CLICKHOUSE_DATABASE: WORKERS_TEST_DATABASE,
                CLICKHOUSE_PASSWORD: "",
                // Query statements as the test engine's read-only user (dev/servers/clickhouse-users.ts).
                CLICKHOUSE_QUERY_USER: "tally_query",
                ADMIN_TOKEN: TEST_ADMIN_TOKEN,
                REFUSAL_FLUSH_SECONDS: "0",
                // Edge tests spy on the events queue binding, so requests send from the isolate;
                // test/workers/ingest.test.ts turns the ingest stage on for its own requests.
                INGEST_SHARDS: "0",
                // Actors commit each call at once (group commit has its own test, test/unit/group-commit.test.ts).
                ACTOR_COMMIT_MS: "0",
                // Routes use the Cache API; test/workers/query-cache.test.ts points a copy of env at Upstash.
                UPSTASH_REDIS_REST_URL: "",
                TEST_UPSTASH_URL: `http://127.0.0.1:${upstashPort}`,
                TEST_UPSTASH_TOKEN: process.env.TALLY_TEST_UPSTASH_TOKEN,
                // test/workers/archive-s3.test.ts points a copy of env at this server (the routes keep R2).
                TEST_ARCHIVE_S3_ENDPOINT: `http://127.0.0.1:${archiveS3Port}`,
                WAREHOUSE_URL: warehouseUrl({ port: warehousePort, database: WORKERS_TEST_DATABASE }),
                // Digest tests run the Worker on a copy of env with SMTP_URL set to this (by default email digests are refused).
                TEST_SMTP_URL: `smtp://user:pass@127.0.0.1:${smtpPort}`,
                TEST_SMTP_INBOX: `http://127.0.0.1:${smtpInboxPort}`,
              },
            },
          }),
        ],
        // As wrangler.toml's [alias]: the S3 SDK's XML parser without DOMParser (platform/archive/aws-xml-builder.js).
        resolve: {
          alias: {
            "@aws-sdk/xml-builder": fileURLToPath(new URL("./platform/archive/aws-xml-builder.js", import.meta.url)),
          },
        },
        test: { name: "workers", include: ["test/workers/**/*.test.ts"] },
      },
    ],
  },
});
