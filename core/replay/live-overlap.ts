/**
 * The live path keeps writing while a replay runs. Between the replay's clear and the step that
 * rewrites an hour, the consumer's once-only check finds the hour empty, so an event arriving
 * again for it (a redelivery, an import run again) is written live and its sessions logged against
 * the actors' state — and then the replay writes the same event and sessions from the archive.
 * Each step therefore writes only events `events` lacks, and cancels in `session_log` whatever the
 * live path logged for the sessions it writes, so each ends at the replay's version alone.
 */
import { SESSION_COLUMNS, type SessionLogRow } from "../clickhouse-row.ts";

/** A logged session version and its net sign in `session_log` (any integer; 0 never returned). */
export type LoggedRow = Omit<SessionLogRow, "sign"> & { sign: number };

/**
 * What session_log nets to, per version, for the sessions these rows write (one property's step).
 * Rows of one version are identical, so grouping by every column nets each version's signs.
 */
export function loggedVersionsStatement(propertyId: string, rows: readonly SessionLogRow[]) {
  const columns = Object.keys(SESSION_COLUMNS).join(", ");
  return {
    sql: `SELECT ${columns}, toInt32(sum(sign)) AS sign FROM session_log WHERE property_id = {p:String} AND opened_at >= {from:DateTime64(3, 'UTC')} AND session_id IN {ids:Array(String)} GROUP BY ${columns} HAVING sign != 0`,
    params: {
      p: propertyId,
      // The text form sorts as time does (toClickHouseDateTime).
      from: rows.map((r) => String(r.opened_at)).sort()[0] ?? "",
      ids: [...new Set(rows.map((r) => String(r.session_id)))],
    },
  };
}

const versionKey = (r: { session_id: unknown; version: unknown }) => `${String(r.session_id)}|${Number(r.version)}`;

/**
 * The rows that cancel the live path's share of what is logged for a step's sessions. The step's
 * own -1 rows retract versions an earlier step of the replay logged; every other logged version
 * (a live +1, or a live -1 of a version the clear removed) is netted to zero.
 */
export function cancelLive(step: readonly SessionLogRow[], logged: readonly LoggedRow[]): SessionLogRow[] {
  const net = new Map(logged.map((r) => [versionKey(r), { row: r, sign: r.sign }]));
  for (const r of step) {
    const entry = r.sign === -1 ? net.get(versionKey(r)) : undefined;
    if (entry) entry.sign -= 1;
  }
  return [...net.values()].flatMap(({ row, sign }) =>
    Array.from({ length: Math.abs(sign) }, () => ({ ...row, sign: sign > 0 ? (-1 as const) : (1 as const) })),
  );
}
