/**
 * A warehouse backfill (issue #16): `npm run warehouse:load -- --from D --to D [--property ID]
 * [--force]` loads every closed hour of a range of UTC days from the archive, through
 * `POST /api/v1/admin/warehouse/load`; WarehouseDO does the work on alarms and reports progress.
 * The request's contract and the job's visible state live here.
 */
import { z } from "zod";
import { PROPERTY_ID_PATTERN } from "../event.ts";
import { DAY_MS } from "../time.ts";
import { hoursIn, lastClosedHour } from "./jobs.ts";

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A backfill spans at most this many days (the archive's default compliance period, and some). */
export const MAX_BACKFILL_DAYS = 800;

/** A real UTC day; 2026-13-40 is an invalid Date, whose toISOString throws (a 500, found by the fuzz suite). */
const isCalendarDate = (s: string) => {
  const ms = DATE.test(s) ? Date.parse(`${s}T00:00:00Z`) : Number.NaN;
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(s);
};

export const BackfillSpecSchema = z
  .strictObject({
    from: z
      .string({ error: "is required: a UTC date such as 2026-01-01" })
      .refine(isCalendarDate, "must be a calendar date such as 2026-01-01"),
    to: z
      .string({ error: "is required: a UTC date such as 2026-03-31 (inclusive)" })
      .refine(isCalendarDate, "must be a calendar date such as 2026-03-31 (inclusive)"),
    property: z.string().regex(PROPERTY_ID_PATTERN, "must look like UA-12345-1 or a 3-64 character slug").optional(),
    /** Reload hours the ledger says are done already (by default they are skipped). */
    force: z.boolean({ error: "must be true or false" }).default(false),
  })
  .refine((s) => !isCalendarDate(s.from) || !isCalendarDate(s.to) || s.from <= s.to, {
    message: "must not be after to",
    path: ["from"],
  })
  .refine(
    (s) =>
      !isCalendarDate(s.from) ||
      !isCalendarDate(s.to) ||
      Date.parse(s.to) - Date.parse(s.from) < MAX_BACKFILL_DAYS * DAY_MS,
    { message: `a backfill spans at most ${MAX_BACKFILL_DAYS} days; run several`, path: ["to"] },
  );
export type BackfillSpec = z.infer<typeof BackfillSpecSchema>;

/** The closed hours a spec covers at `now` (whole UTC days, `to` inclusive; open hours are the schedule's). */
export function backfillHours(spec: BackfillSpec, now: number): number[] {
  const from = Date.parse(`${spec.from}T00:00:00Z`);
  const to = Date.parse(`${spec.to}T00:00:00Z`) + DAY_MS;
  return hoursIn(from, Math.min(to, lastClosedHour(now) + 1));
}

export const BackfillStatusSchema = z.object({
  job_id: z.string(),
  state: z.enum(["running", "done", "failed"]),
  spec: z.object({ from: z.string(), to: z.string(), property: z.string().optional(), force: z.boolean() }),
  hours_total: z.number().int(),
  /** Hours finished: loaded, or skipped because the ledger had them done. */
  hours_done: z.number().int(),
  hours_skipped: z.number().int(),
  events_written: z.number().int(),
  sessions_written: z.number().int(),
  /** Days whose aggregates were rebuilt after their hours loaded. */
  days_aggregated: z.number().int(),
  days_total: z.number().int(),
  attempts: z.number().int(),
  last_error: z.string().optional(),
  started_at: z.string(),
  finished_at: z.string().optional(),
});
export type BackfillStatus = z.infer<typeof BackfillStatusSchema>;

export function backfillStatusFor(
  id: string,
  spec: BackfillSpec,
  hours: number,
  days: number,
  now: number,
): BackfillStatus {
  return {
    job_id: id,
    state: "running",
    spec,
    hours_total: hours,
    hours_done: 0,
    hours_skipped: 0,
    events_written: 0,
    sessions_written: 0,
    days_aggregated: 0,
    days_total: days,
    attempts: 0,
    started_at: new Date(now).toISOString(),
  };
}
