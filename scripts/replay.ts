/**
 * `npm run replay -- --from 2026-11-01 --to 2026-11-07 [--property UA-…] [--target clickhouse|actors|all]`
 * Starts the replay job on a running Worker (`npm run dev`'s by default) and shows its progress
 * until it finishes. The job itself runs in the Worker (ReplayDO), next to the archive and the
 * actors; this is a client of `POST /api/v1/admin/replay` and `GET /api/v1/admin/replay`.
 * Environment: TALLY_URL (http://127.0.0.1:8787), ADMIN_TOKEN (else read from .dev.vars).
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { type ReplayStatus, ReplayStatusSchema } from "../core/replay/job.ts";

const { values } = parseArgs({
  options: {
    from: { type: "string" },
    to: { type: "string" },
    property: { type: "string" },
    target: { type: "string", default: "all" },
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

async function call(method: "GET" | "POST", body?: unknown): Promise<ReplayStatus> {
  const res = await fetch(`${values.url}/api/v1/admin/replay`, {
    method,
    headers,
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as { error?: { message: string } };
  if (!res.ok) throw new Error(`${res.status}: ${json.error?.message ?? JSON.stringify(json)}`);
  return ReplayStatusSchema.parse(json);
}

function bar(s: ReplayStatus): string {
  const width = 30;
  const done = s.hours_total ? s.hours_done / s.hours_total : 0;
  const filled = Math.round(done * width);
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${s.hours_done}/${s.hours_total} hours  ${s.events_written} events  ${s.session_rows_written} session rows${s.last_error ? `  (retrying: ${s.last_error})` : ""}`;
}

const spec = {
  from: values.from,
  to: values.to,
  target: values.target,
  ...(values.property ? { property: values.property } : {}),
};
let status = await call("POST", spec);
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
    ? `replay ${status.job_id} done in ${seconds.toFixed(1)} s: ${status.events_read} archived events read, ${status.events_written} written (${Math.round(status.events_read / Math.max(seconds, 0.001))} events/s)`
    : `replay ${status.job_id} failed: ${status.last_error}`,
);
process.exit(status.state === "done" ? 0 : 1);
