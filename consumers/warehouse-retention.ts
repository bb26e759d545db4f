/**
 * The warehouse's privacy jobs (issue #17), once per UTC day each under the ledger, from the hourly
 * schedule (consumers/warehouse-jobs.ts): empty raw user agents older than RAW_USER_AGENT_DAYS, and
 * delete what lies wholly before ARCHIVE_RETENTION_DAYS (core/privacy/warehouse-retention.ts).
 * Both statements are idempotent, so a failed or repeated day does no harm.
 */
import type { Config } from "../core/config.ts";
import {
  deleteExpired,
  expireUserAgents,
  RAW_USER_AGENT_JOB,
  RETENTION_JOB,
} from "../core/privacy/warehouse-retention.ts";
import { DAY_MS } from "../core/time.ts";
import type { Warehouse } from "../platform/warehouse.ts";
import { runLedgered } from "./warehouse-ledger.ts";

export interface WarehousePrivacyReport {
  user_agents_emptied: number;
  rows_deleted: number;
  errors: string[];
}

/** Runs the day's two jobs unless the ledger has them done; `now` is the schedule's time. */
export async function runWarehousePrivacy(
  db: Warehouse,
  config: Pick<Config, "RAW_USER_AGENT_DAYS" | "ARCHIVE_RETENTION_DAYS">,
  now: number,
): Promise<WarehousePrivacyReport> {
  const day = Math.floor(now / DAY_MS) * DAY_MS;
  const period = [day, day + DAY_MS] as const;
  const report: WarehousePrivacyReport = { user_agents_emptied: 0, rows_deleted: 0, errors: [] };
  // Deletion first: no user agent is emptied in a row about to go.
  const retention = await runLedgered(db, RETENTION_JOB, period, {}, async () => {
    const cut = now - config.ARCHIVE_RETENTION_DAYS * DAY_MS;
    let rows = 0;
    for (const statement of deleteExpired(db, cut)) rows += Number((await statement.executeTakeFirst()).numDeletedRows);
    return { value: rows, rows, detail: `rows before ${new Date(cut).toISOString()} deleted` };
  });
  if (retention.status === "done") report.rows_deleted = retention.value;
  if (retention.status === "failed") report.errors.push(`retention: ${retention.error}`);
  const agents = await runLedgered(db, RAW_USER_AGENT_JOB, period, {}, async () => {
    const cut = now - config.RAW_USER_AGENT_DAYS * DAY_MS;
    const rows = Number((await expireUserAgents(db, cut).executeTakeFirst()).numUpdatedRows);
    return { value: rows, rows, detail: `raw user agents before ${new Date(cut).toISOString()} emptied` };
  });
  if (agents.status === "done") report.user_agents_emptied = agents.value;
  if (agents.status === "failed") report.errors.push(`raw user agents: ${agents.error}`);
  return report;
}
