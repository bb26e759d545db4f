/**
 * `npm run warehouse:load -- --from 2026-01-01 --to 2026-03-31 [--property UA-…] [--force]`
 * Loads every closed hour of a range of UTC days from the archive into the warehouse on a running
 * Worker (`npm run dev`'s by default), and shows its progress until it finishes. The job runs in the
 * Worker (WarehouseDO), next to the archive; this is a client of `POST /api/v1/admin/warehouse/load`
 * and `GET /api/v1/admin/warehouse/load`. Hours the ledger has done are skipped unless `--force`.
 * Environment: TALLY_URL (http://127.0.0.1:8787), ADMIN_TOKEN (else read from .dev.vars).
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type BackfillStatus, BackfillStatusSchema } from "../core/warehouse/backfill.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    to: { type: "string" },
    property: { type: "string" },
    force: { type: "boolean", default: false },
    url: { type: "string", default: process.env.TALLY_URL ?? "http://127.0.0.1:8787" },
  },
});

function adminToken(): string {
  if (process.env.ADMIN_TOKEN) return process.env.ADMIN_TOKEN;
  const vars = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : "";
  const token = /^ADMIN_TOKEN=(.+)$/m.exec(vars)?.[1]?.trim();
  if (!token) throw new Error("set ADMIN_TOKEN (or run `npm run dev` once, which writes it to .dev.vars)");
  return token;
}

const headers = { Authorization: `Bearer ${adminToken()}`, "Content-Type": "application/json" };

async function call(method: "GET" | "POST", body?: unknown): Promise<BackfillStatus> {
  const res = await fetch(`${values.url}/api/v1/admin/warehouse/load`, {
    method,
    headers,
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as { error?: { message: string } };
  if (!res.ok) throw new Error(`${res.status}: ${json.error?.message ?? JSON.stringify(json)}`);
  return BackfillStatusSchema.parse(json);
}

function bar(s: BackfillStatus): string {
  const width = 30;
  const done = s.hours_total ? s.hours_done / s.hours_total : 1;
  const filled = Math.round(done * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${s.hours_done}/${s.hours_total} hours (${s.hours_skipped} already loaded)  ${s.events_written} event rows  ${s.sessions_written} session rows  ${s.days_aggregated}/${s.days_total} days aggregated${s.last_error ? `  (retrying: ${s.last_error})` : ""}`;
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
const started = Date.now();
const tty = process.stderr.isTTY;
while (status.state === "running") {
  process.stderr.write(tty ? `\r${bar(status)}` : `${bar(status)}\n`);
  await new Promise((r) => setTimeout(r, tty ? 250 : 2_000));
  status = await call("GET");
}
process.stderr.write(`${tty ? "\r" : ""}${bar(status)}\n`);
const seconds = (Date.now() - started) / 1000;
console.log(
  status.state === "done"
    ? `warehouse load ${status.job_id} done in ${seconds.toFixed(1)} s: ${status.hours_done} hours, ${status.events_written} event rows (${Math.round(status.events_written / Math.max(seconds, 0.001))} rows/s), ${status.sessions_written} session rows`
    : `warehouse load ${status.job_id} failed: ${status.last_error}`,
);
process.exit(status.state === "done" ? 0 : 1);
