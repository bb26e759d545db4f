/**
 * `npm run replay -- --from 2026-11-01 --to 2026-11-07 [--property UA-…] [--target clickhouse|actors|all]`
 * Starts the replay job on a running Worker (`npm run dev`'s by default) and shows its progress
 * until it finishes. The job itself runs in the Worker (ReplayDO), next to the archive and the
 * actors; this is a client of `POST /api/v1/admin/replay` and `GET /api/v1/admin/replay`.
 * Environment: TALLY_URL (http://127.0.0.1:8787), ADMIN_TOKEN (else read from .dev.vars).
 */
import { parseArgs } from "node:util";
import { type ReplayStatus, ReplayStatusSchema } from "../core/replay/job.ts";
import { follow, jobRoute, progress } from "./admin-job.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    to: { type: "string" },
    property: { type: "string" },
    target: { type: "string", default: "all" },
    url: { type: "string", default: process.env.TALLY_URL ?? "http://127.0.0.1:8787" },
  },
});

const call = jobRoute(`${values.url}/api/v1/admin/replay`, ReplayStatusSchema);

function bar(s: ReplayStatus): string {
  return `${progress(s.hours_done, s.hours_total)} ${s.hours_done}/${s.hours_total} hours  ${s.events_written} events  ${s.session_rows_written} session rows${s.last_error ? `  (retrying: ${s.last_error})` : ""}`;
}

const spec = {
  from: values.from,
  to: values.to,
  target: values.target,
  ...(values.property ? { property: values.property } : {}),
};
const { status, seconds } = await follow(await call("POST", spec), () => call("GET"), bar);
console.log(
  status.state === "done"
    ? `replay ${status.job_id} done in ${seconds.toFixed(1)} s: ${status.events_read} archived events read, ${status.events_written} written (${Math.round(status.events_read / Math.max(seconds, 0.001))} events/s)`
    : `replay ${status.job_id} failed: ${status.last_error}`,
);
process.exit(status.state === "done" ? 0 : 1);
