/**
 * `npm run warehouse:load -- --from 2026-01-01 --to 2026-03-31 [--property UA-…] [--force]`
 * Loads every closed hour of a range of UTC days from the archive into the warehouse on a running
 * Worker (`npm run dev`'s by default), and shows its progress until it finishes. The job runs in the
 * Worker (WarehouseDO), next to the archive; this is a client of `POST /api/v1/admin/warehouse/load`
 * and `GET /api/v1/admin/warehouse/load`. Hours the ledger has done are skipped unless `--force`.
 * Environment: TALLY_URL (http://127.0.0.1:8787), ADMIN_TOKEN (else read from .dev.vars).
 */
import { parseArgs } from "node:util";
import { type BackfillStatus, BackfillStatusSchema } from "../core/warehouse/backfill.ts";
import { follow, jobRoute, progress } from "./admin-job.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    to: { type: "string" },
    property: { type: "string" },
    force: { type: "boolean", default: false },
    url: { type: "string", default: process.env.TALLY_URL ?? "http://127.0.0.1:8787" },
  },
});

const call = jobRoute(`${values.url}/api/v1/admin/warehouse/load`, BackfillStatusSchema);

function bar(s: BackfillStatus): string {
  return `${progress(s.hours_done, s.hours_total)} ${s.hours_done}/${s.hours_total} hours (${s.hours_skipped} already loaded)  ${s.events_written} event rows  ${s.sessions_written} session rows  ${s.days_aggregated}/${s.days_total} days aggregated${s.last_error ? `  (retrying: ${s.last_error})` : ""}`;
}

const spec = {
  from: values.from,
  to: values.to,
  force: values.force,
  ...(values.property ? { property: values.property } : {}),
};
let status: BackfillStatus;
try {
  status = await call("POST", spec);
} catch (error) {
  console.error(`warehouse:load: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}
const { status: last, seconds } = await follow(status, () => call("GET"), bar);
status = last;
console.log(
  status.state === "done"
    ? `warehouse load ${status.job_id} done in ${seconds.toFixed(1)} s: ${status.hours_done} hours, ${status.events_written} event rows (${Math.round(status.events_written / Math.max(seconds, 0.001))} rows/s), ${status.sessions_written} session rows`
    : `warehouse load ${status.job_id} failed: ${status.last_error}`,
);
process.exit(status.state === "done" ? 0 : 1);
