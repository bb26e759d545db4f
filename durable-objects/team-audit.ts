/**
 * A TeamDO's audit log: who did what and when, append-only in SQLite (queryable by time and
 * action, paged by sequence). Entries older than the compliance period (ARCHIVE_RETENTION_DAYS)
 * go when new ones come. Never a secret, never an address: actors are emails, key ids, "admin token".
 */
import type { AuditEntry } from "../core/team/schemas.ts";

export type AuditInput = Omit<AuditEntry, "seq" | "at">;

export function ensureAuditTable(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
  )`);
  sql.exec("CREATE INDEX IF NOT EXISTS audit_at ON audit (at)");
}

export function appendAudit(sql: SqlStorage, entry: AuditInput, now: number, keepDays: number): void {
  sql.exec(
    "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
    now,
    entry.actor,
    entry.action,
    entry.target,
    JSON.stringify(entry.detail),
  );
  sql.exec("DELETE FROM audit WHERE at < ?", now - keepDays * 86_400_000);
}

/** Newest first; `before`: entries older than that sequence number (the next page); `action`: only those. */
export function readAudit(
  sql: SqlStorage,
  options: { limit: number; before?: number | undefined; action?: string | undefined },
): AuditEntry[] {
  const rows = sql
    .exec<{ seq: number; at: number; actor: string; action: string; target: string; detail: string }>(
      `SELECT seq, at, actor, action, target, detail FROM audit
       WHERE seq < ? AND (? IS NULL OR action = ?) ORDER BY seq DESC LIMIT ?`,
      options.before ?? Number.MAX_SAFE_INTEGER,
      options.action ?? null,
      options.action ?? null,
      options.limit,
    )
    .toArray();
  return rows.map((r) => ({ ...r, detail: JSON.parse(r.detail) as AuditEntry["detail"] }));
}
