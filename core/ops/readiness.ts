/**
 * The readiness answer (`GET /readyz`): each dependency with its status and latency, and whether the
 * Worker can do its job without it. Required: ClickHouse (reports, the consumer's inserts), the archive
 * (nothing is accepted into projections unless archived first) and the events queues (every ingestion
 * route hands off there). Not required: the warehouse (only ranges past HOT_RETENTION_DAYS need it)
 * and the query cache (queries go on uncached).
 */
import { z } from "zod";

export const DEPENDENCIES = ["clickhouse", "warehouse", "archive", "queues", "cache"] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

export const REQUIRED: Readonly<Record<Dependency, boolean>> = {
  clickhouse: true,
  warehouse: false,
  archive: true,
  queues: true,
  cache: false,
};

export const CheckSchema = z.object({
  status: z.enum(["ok", "down", "not_configured"]),
  required: z.boolean(),
  latency_ms: z.number().nullable(),
  /** What failed, without secrets (a host, an error code). */
  error: z.string().optional(),
  /** Facts worth showing beside the status (a queue's backlog, the cache's kind). */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
});
export type Check = z.infer<typeof CheckSchema>;

export const ReadinessSchema = z.object({
  status: z.enum(["ready", "not_ready"]),
  checked_at: z.string(),
  checks: z.record(z.enum(DEPENDENCIES), CheckSchema),
});
export type Readiness = z.infer<typeof ReadinessSchema>;

/** Ready when every required dependency answered. */
export function readiness(checks: Record<Dependency, Check>, now: number): Readiness {
  const down = DEPENDENCIES.some((d) => checks[d].required && checks[d].status !== "ok");
  return { status: down ? "not_ready" : "ready", checked_at: new Date(now).toISOString(), checks };
}
