/**
 * Probes each dependency for `GET /readyz`, in parallel, each bounded by PROBE_TIMEOUT_MS: ClickHouse
 * with `SELECT 1` as the query user (so its password and grants are checked too), the warehouse with
 * `SELECT 1`, the archive by listing one key, every events queue shard by its metrics (backlog and the
 * oldest message's age: consumer lag), the cache by a round trip when it is Upstash.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { sql } from "kysely";
import {
  type Check,
  DEPENDENCIES,
  type Dependency,
  REQUIRED,
  type Readiness,
  readiness,
} from "../core/ops/readiness.ts";
import { archiveStore } from "./archive/store.ts";
import { queryClickHouseClient } from "./clickhouse.ts";
import { loadConfig } from "./config.ts";
import { queueFor } from "./events-queue.ts";
import { withWarehouse } from "./warehouse.ts";

export const PROBE_TIMEOUT_MS = 3_000;

type Probe = () => Promise<Check["detail"] | "not_configured">;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** An error as a short line without credentials (URLs lose their user info). */
function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\/\/[^/@\s]+@/g, "//").slice(0, 200);
}

async function run(dependency: Dependency, probe: Probe): Promise<Check> {
  const required = REQUIRED[dependency];
  const started = Date.now();
  try {
    const detail = await withTimeout(probe(), PROBE_TIMEOUT_MS);
    if (detail === "not_configured") return { status: "not_configured", required: false, latency_ms: null };
    return { status: "ok", required, latency_ms: Date.now() - started, ...(detail ? { detail } : {}) };
  } catch (error) {
    return { status: "down", required, latency_ms: Date.now() - started, error: describe(error) };
  }
}

function probes(env: Env): Record<Dependency, Probe> {
  const config = loadConfig(env);
  return {
    clickhouse: async () => {
      const result = await queryClickHouseClient(config).query({ query: "SELECT 1 AS ok", format: "JSONEachRow" });
      await result.json();
      return undefined;
    },
    warehouse: async () => {
      if (!config.WAREHOUSE_URL) return "not_configured";
      await withWarehouse(config.WAREHOUSE_URL, (db) => sql`select 1`.execute(db), { max: 1 });
      return undefined;
    },
    archive: async () => {
      await (await archiveStore(env)).list("readyz/");
      return undefined;
    },
    queues: async () => {
      const shards = Array.from({ length: config.EVENTS_QUEUE_SHARDS }, (_, n) => queueFor(env, n));
      const metrics = await Promise.all(shards.map((q) => q.metrics()));
      const oldest = metrics
        .map((m) => m.oldestMessageTimestamp?.getTime())
        .filter((t): t is number => t !== undefined && t > 0);
      return {
        shards: shards.length,
        backlog: metrics.reduce((n, m) => n + m.backlogCount, 0),
        oldest_message_age_ms: oldest.length > 0 ? Date.now() - Math.min(...oldest) : null,
      };
    },
    cache: async () => {
      if (!config.UPSTASH_REDIS_REST_URL || !config.UPSTASH_REDIS_REST_TOKEN) return { kind: "cache-api" };
      await new Redis({
        url: config.UPSTASH_REDIS_REST_URL,
        token: config.UPSTASH_REDIS_REST_TOKEN,
        retry: false,
      }).ping();
      return { kind: "upstash" };
    },
  };
}

/** Every dependency's check, and the verdict. */
export async function checkReadiness(env: Env): Promise<Readiness> {
  const all = probes(env);
  const checks = await Promise.all(DEPENDENCIES.map((d) => run(d, all[d])));
  return readiness(
    Object.fromEntries(DEPENDENCIES.map((d, i) => [d, checks[i]])) as Record<Dependency, Check>,
    Date.now(),
  );
}
