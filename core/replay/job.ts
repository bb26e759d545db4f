/** A replay job's visible state (the admin endpoint and `npm run replay` show it) and its pure helpers. */
import { z } from "zod";
import type { ReplaySpec } from "./replay.ts";

export const ReplayStatusSchema = z.object({
  job_id: z.string(),
  state: z.enum(["running", "done", "failed"]),
  /** `clearing`: deleting the range from the projections; `replaying`: reading the archive hour by hour. */
  phase: z.enum(["clearing", "replaying"]),
  spec: z.object({ from: z.string(), to: z.string(), property: z.string().optional(), target: z.string() }),
  hours_total: z.number().int(),
  hours_done: z.number().int(),
  events_read: z.number().int(),
  events_written: z.number().int(),
  session_rows_written: z.number().int(),
  attempts: z.number().int(),
  last_error: z.string().optional(),
  started_at: z.string(),
  finished_at: z.string().optional(),
});
export type ReplayStatus = z.infer<typeof ReplayStatusSchema>;

export function replayStatusFor(id: string, spec: ReplaySpec, hours: number, now: number): ReplayStatus {
  return {
    job_id: id,
    state: "running",
    phase: "clearing",
    spec,
    hours_total: hours,
    hours_done: 0,
    events_read: 0,
    events_written: 0,
    session_rows_written: 0,
    attempts: 0,
    started_at: new Date(now).toISOString(),
  };
}
