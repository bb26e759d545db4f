/**
 * What the benches share: the edge Worker's Miniflare options (bench/ingest.ts, bench/packing.ts),
 * and the workerd processes a bench started, the CPU and memory they used (bench/consumer.ts too) —
 * other workerd on the machine (a test run, another bench) are not ours to count or pin.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import type { V4WorkerOptions } from "miniflare";

/** Pids of the workerd processes below this process. */
export function ourWorkerd(): string[] {
  const pids = execFileSync("pgrep", ["-f", "workerd"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  const parent = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1] ?? "";
    } catch {
      return "";
    }
  };
  return pids.filter((pid) => {
    for (let p = pid, depth = 0; p && p !== "1" && depth < 8; p = parent(p), depth++)
      if (p === String(process.pid)) return true;
    return false;
  });
}

/** CPU seconds (user + system, every thread) used so far by these processes. */
export function cpuSeconds(pids: readonly string[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between pgrep and the read
    }
  }
  return ticks / 100;
}

/** CPU seconds (user + system) used so far by every workerd process below this one. */
export const workerdCpuSeconds = (): number => cpuSeconds(ourWorkerd());

/** CPU seconds this Node process has used (chDB runs in it for bench/consumer.ts). */
export function nodeCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Forgets the peak resident set so far (VmHWM), so the next read is this run's. */
export function resetPeak(pids: readonly string[]): void {
  for (const pid of pids) writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

/** Peak resident set (MB) since the last reset, summed over the processes. */
export function peakMb(pids: readonly string[]): number {
  let kb = 0;
  for (const pid of pids) kb += Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return kb / 1024;
}

/**
 * The bundled Worker's options for the edge benches (Miniflare's v4 shape): the queue, R2 and the
 * actors the edge calls, and the production limiters with budgets the bench cannot exhaust (their
 * cost is measured, not their refusals). ClickHouse points nowhere: the edge never calls it.
 */
export function edgeWorkerOptions(scriptPath: string): V4WorkerOptions {
  return {
    name: "tally",
    modules: true,
    scriptPath,
    compatibilityDate: "2026-11-01",
    compatibilityFlags: ["nodejs_compat"],
    queueProducers: { EVENTS_QUEUE: { queueName: "events" } },
    r2Buckets: ["ARCHIVE_BUCKET"],
    durableObjects: { PROPERTY_DO: "PropertyDO", REGISTRY_DO: "RegistryDO", INGEST_DO: "IngestDO" },
    ratelimits: {
      IP_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000_000, period: 60 } },
      PROPERTY_RATE_LIMITER: { namespace_id: "1002", simple: { limit: 1_000_000_000, period: 60 } },
      AUTH_FAILURE_LIMITER: { namespace_id: "1003", simple: { limit: 1_000_000_000, period: 60 } },
      LOOKUP_RATE_LIMITER: { namespace_id: "1004", simple: { limit: 1_000_000_000, period: 60 } },
    },
    bindings: {
      CLICKHOUSE_URL: "http://127.0.0.1:9",
      CLICKHOUSE_DATABASE: "default",
      CLICKHOUSE_USER: "default",
      CLICKHOUSE_PASSWORD: "",
      ADMIN_TOKEN: "bench-admin-token-0123456789abcdef0123",
      EVENTS_QUEUE_SHARDS: "1",
      REFUSAL_FLUSH_SECONDS: "10",
    },
  };
}
