/**
 * The query bench's measurement (bench/query.ts): the Worker in one workerd through Miniflare's API,
 * and for each target, alternating A B A B, the API over HTTP then the same statements sent straight
 * to ClickHouse with the Worker's own client settings; then rows read per statement and the
 * overview's statements one by one.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ClickHouseClient } from "@clickhouse/client-web";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import type { GoalRef } from "../core/query/normalise.ts";
import { bundleWorker } from "./bundle.ts";
import type { BenchClickHouse } from "./query-dataset.ts";
import { HOT_RETENTION_DAYS, PROPERTY, type Statement, type Target } from "./query-targets.ts";

/** Measured iterations per target (BENCH_QUERY_ITERATIONS, 40), after WARMUP unmeasured ones. */
export const ITERATIONS = Number(process.env.BENCH_QUERY_ITERATIONS ?? 40);
export const WARMUP = 5;

/** One statement as workers/query/run.ts runs it: JSONEachRow, every row parsed. */
async function runStatement(client: ClickHouseClient, s: Statement): Promise<void> {
  const result = await client.query({
    query: s.sql,
    query_params: s.params,
    format: "JSONEachRow",
    ...(s.settings ? { clickhouse_settings: s.settings } : {}),
  });
  await result.json();
}

/**
 * Rows the engine read for a statement, from the JSON format's `statistics` (the embedded server's
 * X-ClickHouse-Summary counts result rows as chDB reports them, not rows read).
 */
async function rowsRead(client: ClickHouseClient, s: Statement): Promise<number> {
  const result = await client.query({ query: s.sql, query_params: s.params, format: "JSON" });
  return (await result.json<unknown>()).statistics?.rows_read ?? 0;
}

async function timed<T>(f: () => Promise<T>): Promise<[number, T]> {
  const started = performance.now();
  const value = await f();
  return [performance.now() - started, value];
}

/**
 * CPU seconds used so far by the whole machine and by this process with its descendants (the
 * ClickHouse server, workerd): the difference over the measurement is other processes' load, which
 * slows every figure. Linux /proc; undefined elsewhere.
 */
function cpuSeconds(): { machine: number; ours: number } | undefined {
  try {
    const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]);
    const stats = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .flatMap((pid) => {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
          return [{ pid: Number(pid), ppid: Number(fields[1]), ticks: ticks(fields) }];
        } catch {
          return []; // the process ended meanwhile
        }
      });
    const ours = new Set([process.pid]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const p of stats)
        if (ours.has(p.ppid) && !ours.has(p.pid)) {
          ours.add(p.pid);
          grew = true;
        }
    }
    const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0]?.split(/\s+/).slice(1).map(Number) ?? [];
    const busy = cpu.reduce((a, b) => a + b, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0); // minus idle and iowait
    return { machine: busy / 100, ours: stats.filter((p) => ours.has(p.pid)).reduce((a, p) => a + p.ticks, 0) / 100 };
  } catch {
    return undefined;
  }
}

/**
 * The Worker in one workerd, pointed at this ClickHouse as its writer and its read-only query user
 * (as `npm run dev` runs it); `bindings` adds or overrides vars (the warehouse bench sets WAREHOUSE_URL).
 */
export function startWorker(clickhouse: BenchClickHouse, bindings: Record<string, string> = {}): Miniflare {
  // Miniflare 5 (the one wrangler 4.164 uses) takes a new options shape; the v4 shape converts.
  return new Miniflare(
    convertV4MiniflareOptions({
      workers: [
        {
          name: "tally",
          modules: true,
          scriptPath: bundleWorker("workers/main.ts", join(".bench-data", "worker")),
          compatibilityDate: "2026-11-01",
          compatibilityFlags: ["nodejs_compat"],
          // The query cache off: a Cache API that never hits (see bench/query.ts's header).
          cacheAPI: false,
          queueProducers: { EVENTS_QUEUE: { queueName: "events" } },
          r2Buckets: ["ARCHIVE_BUCKET"],
          durableObjects: { PROPERTY_DO: "PropertyDO", REGISTRY_DO: "RegistryDO", SESSION_DO: "SessionDO" },
          ratelimits: {
            IP_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 100, period: 60 } },
            PROPERTY_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 400, period: 60 } },
            AUTH_FAILURE_LIMITER: { namespace_id: "1003", simple: { limit: 30, period: 60 } },
            LOOKUP_RATE_LIMITER: { namespace_id: "1004", simple: { limit: 120, period: 60 } },
          },
          bindings: {
            CLICKHOUSE_URL: clickhouse.url,
            CLICKHOUSE_DATABASE: "default",
            CLICKHOUSE_USER: clickhouse.credentials.user,
            CLICKHOUSE_PASSWORD: clickhouse.credentials.password,
            CLICKHOUSE_QUERY_USER: clickhouse.credentials.queryUser,
            CLICKHOUSE_QUERY_PASSWORD: clickhouse.credentials.queryPassword,
            ADMIN_TOKEN: "bench-admin-token-0123456789abcdef0123",
            HOT_RETENTION_DAYS: String(HOT_RETENTION_DAYS),
            UPSTASH_REDIS_REST_URL: "",
            // The hourly query quota is measured elsewhere; here it must not refuse the bench's requests.
            QUERY_LIMIT_PER_HOUR: "1000000",
            // Only bench/warehouse-query.ts answers beyond the hot retention.
            WAREHOUSE_URL: "",
            ...bindings,
          },
        },
      ],
    }),
  );
}

export async function createProperty(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/properties`, {
    method: "POST",
    headers: { Authorization: "Bearer bench-admin-token-0123456789abcdef0123", "Content-Type": "application/json" },
    body: JSON.stringify({ property_id: PROPERTY, name: "Query bench", domains: ["www.example.com"], timezone: "UTC" }),
  });
  if (res.status !== 201) throw new Error(`creating the bench property failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { api_key: string }).api_key;
}

/** Adds the goals the goal-conversion target reports on, with the property's API key. */
export async function createGoals(base: string, apiKey: string, goals: readonly GoalRef[]): Promise<void> {
  for (const goal of goals) {
    const res = await fetch(`${base}/api/v1/properties/${PROPERTY}/goals`, {
      method: "POST",
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify(goal),
    });
    if (res.status !== 201) throw new Error(`adding goal ${goal.name} failed: ${res.status} ${await res.text()}`);
  }
}

/** The API's answer, checked: 200, not from the cache; its plan and echoed query. */
async function callApi(base: string, t: Target) {
  const res = await fetch(t.request(base));
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${t.name}: ${res.status} ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { meta?: { cached?: boolean; plan?: string }; query?: unknown };
  if (body.meta?.cached) throw new Error(`${t.name}: answered from the cache; the bench must measure the miss path`);
  if (t.echo !== undefined && JSON.stringify(body.query) !== JSON.stringify(t.echo))
    throw new Error(
      `${t.name}: the API ran another query than the bench's\n${JSON.stringify(body.query)}\n${JSON.stringify(t.echo)}`,
    );
  return body;
}

/** CPU seconds used so far: the whole machine's, and this process tree's. */
type CpuSeconds = ReturnType<typeof cpuSeconds>;

/** What one run measured, for bench/query-print.ts. */
export interface Measurement {
  /** Per target, in the targets' order: API and direct milliseconds per iteration, and the plan. */
  samples: { api: number[]; direct: number[]; plan: string }[];
  cpuBefore: CpuSeconds;
  cpuAfter: CpuSeconds;
  measureSeconds: number;
  rows: Map<Statement, number>;
  overviewStatements: Statement[];
  /** Per overview statement: milliseconds of 15 runs alone. */
  alone: number[][];
}

/** Times every target, A B A B, WARMUP + ITERATIONS times; then rows read, and the overview's statements alone. */
export async function measure(base: string, direct: ClickHouseClient, list: Target[]): Promise<Measurement> {
  const cpuBefore = cpuSeconds();
  const measureStarted = performance.now();
  const samples = list.map(() => ({ api: [] as number[], direct: [] as number[], plan: "" }));
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    for (const [k, t] of list.entries()) {
      const [apiMs, body] = await timed(() => callApi(base, t));
      const [directMs] = await timed(() => Promise.all(t.statements.map((s) => runStatement(direct, s))));
      const slot = samples[k];
      if (!slot || i < WARMUP) continue;
      slot.api.push(apiMs);
      slot.direct.push(directMs);
      slot.plan = body.meta?.plan ?? t.statements[0]?.plan ?? "";
    }
    if (i === WARMUP - 1) console.error(`warm-up done; measuring ${ITERATIONS} iterations`);
  }

  const cpuAfter = cpuSeconds();
  const measureSeconds = (performance.now() - measureStarted) / 1000;
  // Rows read per statement (once, untimed); then each overview statement alone, one after
  // another, to show where the overview's time goes.
  const rows = new Map<Statement, number>();
  for (const t of list) for (const s of t.statements) rows.set(s, await rowsRead(direct, s));
  const overviewStatements = list[0]?.statements ?? [];
  const alone = overviewStatements.map(() => [] as number[]);
  for (let i = 0; i < 15; i++)
    for (const [k, s] of overviewStatements.entries()) alone[k]?.push((await timed(() => runStatement(direct, s)))[0]);
  return { samples, cpuBefore, cpuAfter, measureSeconds, rows, overviewStatements, alone };
}
