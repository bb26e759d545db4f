/**
 * GDPR erasure's contract: what a request names, the job's visible status (which is also its audit
 * record once finished), and the pure rules an erasure job follows. A visitor is the `client_id`
 * or the `user_id` a site sent; erasing one removes every event whose client id is the visitor,
 * or whose user id is, and every event of the client ids those events carry (a session is a client
 * id's: removing part of it would leave a visit shaped by someone who was never there).
 */
import { z } from "zod";
import type { ArchiveRecord } from "../archive/layout.ts";
import { PROPERTY_ID_PATTERN } from "../event.ts";
import { DAY_MS, HOUR_MS } from "../time.ts";

/** Longest id a site can send (`user_id` allows 256 characters, `client_id` 128). */
export const MAX_VISITOR_LENGTH = 256;
const CONTROL = /\p{Cc}/u;

/** A visitor id from a URL: what the event schema would have accepted as a client or user id. */
export const VisitorSchema = z
  .string()
  .min(1, "must not be empty")
  .max(MAX_VISITOR_LENGTH, `must be at most ${MAX_VISITOR_LENGTH} characters (a client_id or user_id)`)
  .refine((s) => s.isWellFormed(), "must be valid Unicode")
  .refine((s) => !CONTROL.test(s), "must not contain control characters");

export const ErasureIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be 8-64 letters, digits, - or _");

/** Erasures one property may have waiting; beyond it the route answers 429. */
export const MAX_QUEUED_ERASURES = 1_000;

export const ErasureScopeSchema = z.enum(["visitor", "property"]);
export type ErasureScope = z.infer<typeof ErasureScopeSchema>;

/** What `ErasureDO.start` takes. `erasure_id`, when given, makes a repeated start return the same job. */
export const ErasureRequestSchema = z
  .strictObject({
    erasure_id: ErasureIdSchema.optional(),
    property_id: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug"),
    scope: ErasureScopeSchema,
    visitor: VisitorSchema.optional(),
    /** `admin`, or `key:<key id>` for a property's API key. */
    requested_by: z.string().min(1).max(64),
    /** Epoch ms or an ISO time; the job records it as ISO. */
    requested_at: z.union([z.number().int().nonnegative(), z.iso.datetime()]).optional(),
  })
  .refine((r) => (r.scope === "visitor") === (r.visitor !== undefined), {
    message: "is required for scope visitor and not allowed for scope property",
    path: ["visitor"],
  });
export type ErasureRequest = z.infer<typeof ErasureRequestSchema>;

/** The stores, in the order a job erases them: the truth first, so no projection is rebuilt with the visitor. */
export const ERASURE_STEPS = ["find", "archive", "clickhouse", "warehouse", "actors", "notify"] as const;
export type ErasureStep = (typeof ERASURE_STEPS)[number];

const StoreReportSchema = z.object({
  state: z.enum(["pending", "done", "skipped", "partial"]),
  /** Rows removed (ClickHouse: raw rows the deletes matched; warehouse: rows deleted). */
  rows_removed: z.number().int().default(0),
  /** Archive: Parquet files read and rewritten, objects deleted; ClickHouse and warehouse: days rebuilt. */
  files_read: z.number().int().default(0),
  files_rewritten: z.number().int().default(0),
  objects_deleted: z.number().int().default(0),
  days_rebuilt: z.number().int().default(0),
  /** Actors: session actors told; what could not be removed, and why. */
  actors: z.number().int().default(0),
  note: z.string().optional(),
});
export type StoreReport = z.infer<typeof StoreReportSchema>;

/**
 * How long after its first pass a visitor's erasure runs again, for the events accepted before the
 * request that no store held yet (queued, or archived and not yet in ClickHouse): the events
 * queue's consumer retries a batch up to 10 times (wrangler.toml max_retries) with the backoff of
 * consumers/backoff.ts, 5 s doubling to 10 minutes, 2,435 s in all; 45 minutes covers that whole
 * schedule and the 1 s batch window (test/unit/erasure-follow-up.test.ts holds the two together).
 */
export const FOLLOW_UP_DELAY_MS = 45 * 60_000;

/** The follow-up pass of a visitor's erasure: when it is due, and what it found. */
const FollowUpSchema = z.object({
  due_at: z.string(),
  state: z.enum(["pending", "running", "done", "failed"]),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  /** Hours the second find turned up (late events); the stores' counts include this pass's. */
  hours_found: z.number().int().default(0),
});

export const ErasureStatusSchema = z.object({
  erasure_id: z.string(),
  property_id: z.string(),
  scope: ErasureScopeSchema,
  /** SHA-256 of the visitor id: the audit proves which id was erased without keeping it. */
  visitor_sha256: z.string().optional(),
  requested_by: z.string(),
  requested_at: z.string(),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  state: z.enum(["queued", "running", "done", "failed"]),
  step: z.enum(ERASURE_STEPS),
  /** Hours of event time the visitor (or property) had data in, as found. */
  hours_found: z.number().int(),
  client_ids_found: z.number().int(),
  attempts: z.number().int(),
  last_error: z.string().optional(),
  /** Scope visitor: the second pass for late events; `state` is done once the first pass is. */
  follow_up: FollowUpSchema.optional(),
  stores: z.object({
    archive: StoreReportSchema,
    clickhouse: StoreReportSchema,
    warehouse: StoreReportSchema,
    session_actors: StoreReportSchema,
    live_windows: StoreReportSchema,
    query_cache: StoreReportSchema,
  }),
});
export type ErasureStatus = z.infer<typeof ErasureStatusSchema>;
export type ErasureStore = keyof ErasureStatus["stores"];

/** The audit record: a finished job's status (kept after the property's data is gone). */
export const ErasureAuditSchema = ErasureStatusSchema.extend({
  state: z.enum(["done", "failed"]),
  finished_at: z.string(),
});
export type ErasureAudit = z.infer<typeof ErasureAuditSchema>;

const pending = (): StoreReport => StoreReportSchema.parse({ state: "pending" });

/** A new job's status, queued. */
export function erasureStatusFor(
  request: ErasureRequest,
  erasureId: string,
  visitorSha256: string | undefined,
  now: number,
): ErasureStatus {
  const at = request.requested_at ?? now;
  return {
    erasure_id: erasureId,
    property_id: request.property_id,
    scope: request.scope,
    ...(visitorSha256 ? { visitor_sha256: visitorSha256 } : {}),
    requested_by: request.requested_by,
    requested_at: typeof at === "number" ? new Date(at).toISOString() : at,
    state: "queued",
    step: "find",
    hours_found: 0,
    client_ids_found: 0,
    attempts: 0,
    stores: {
      archive: pending(),
      clickhouse: pending(),
      warehouse: pending(),
      session_actors: pending(),
      live_windows: pending(),
      query_cache: pending(),
    },
  };
}

/** The step after `step`, or null after the last. */
export function nextStep(step: ErasureStep): ErasureStep | null {
  return ERASURE_STEPS[ERASURE_STEPS.indexOf(step) + 1] ?? null;
}

/** Who a job erases: the visitor's ids, or (scope property) everyone of the property. */
export interface ErasureTarget {
  property_id: string;
  scope: ErasureScope;
  /** The requested id (scope visitor). */
  visitor?: string;
  /** The client ids found for it (the visitor itself included). */
  client_ids: readonly string[];
}

/** What a job found: the visitor's client ids, and the hours (epoch ms) each store holds the target in. */
export interface ErasureFound {
  client_ids: string[];
  clickhouse_hours: number[];
  warehouse_hours: number[];
}

/** What erasing one store did; `skipped` says why nothing was to be done. */
export interface StoreErased {
  rows_removed: number;
  days_rebuilt: number;
  skipped?: string;
}

/** The archive edit of an erasure: the target's records dropped, every other record left as it is. */
export function erasureEdit(target: ErasureTarget): (record: ArchiveRecord) => ArchiveRecord | null {
  const ids = new Set(target.client_ids);
  return (record) => {
    if (record.property_id !== target.property_id) return record;
    if (target.scope === "property" || ids.has(record.client_id)) return null;
    return target.visitor !== undefined && record.user_id === target.visitor ? null : record;
  };
}

/** Hour starts (epoch ms), distinct and sorted, from any instants. */
export function hoursOf(instants: Iterable<number>): number[] {
  return [...new Set([...instants].map((t) => Math.floor(t / HOUR_MS) * HOUR_MS))].sort((a, b) => a - b);
}

/** Day starts (epoch ms), distinct and sorted, of hour starts. */
export function daysOfHours(hours: Iterable<number>): number[] {
  return [...new Set([...hours].map((h) => Math.floor(h / DAY_MS) * DAY_MS))].sort((a, b) => a - b);
}

/** `DELETE /api/v1/properties/{id}`'s answer (workers/admin/property-delete.ts builds it). */
export const PropertyDeletionSchema = z.object({
  property_id: z.string(),
  deleted_at: z.iso.datetime(),
  deleted_by: z.string().meta({ description: "Who deleted it: admin" }),
  erasure_id: z.string(),
  status_url: z.string().meta({ description: "GET it to follow the erasure of the property's data" }),
  status: ErasureStatusSchema,
});
export type PropertyDeletion = z.infer<typeof PropertyDeletionSchema>;
