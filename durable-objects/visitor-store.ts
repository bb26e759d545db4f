/**
 * A session actor's visitors: all in memory, persisted as a log of a few rows
 * (core/session/visitor-log.ts). `commit` writes one delta row for everything changed since the
 * last commit, inside the caller's synchronous transaction, so an RPC that commits before it
 * returns never acknowledges a change the actor could lose: after an eviction or a crash, the next
 * instance reads the log back and has exactly what every answered call wrote.
 */
import { decodeVisitor } from "../core/session/codec.ts";
import {
  deltaRow,
  type LogHead,
  type LogRow,
  MAX_CHUNK_CHARS,
  needsSnapshot,
  readLog,
  type StoredVisitor,
  snapshotRows,
} from "../core/session/visitor-log.ts";

export class VisitorStore {
  readonly #sql: SqlStorage;
  readonly #visitors: Map<string, StoredVisitor>;
  #head: LogHead;
  /** Changed since the last commit; `null` forgets the visitor. */
  readonly #dirty = new Map<string, StoredVisitor | null>();

  constructor(sql: SqlStorage) {
    this.#sql = sql;
    // WITHOUT ROWID: the key is the table, so a write is one row (an index beside a rowid table is billed as a second).
    sql.exec(
      "CREATE TABLE IF NOT EXISTS visitor_log (slot TEXT PRIMARY KEY, gen INTEGER NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL) WITHOUT ROWID",
    );
    const rows = sql.exec<{ slot: string; gen: number; seq: number; body: string }>(
      "SELECT slot, gen, seq, body FROM visitor_log",
    );
    const { visitors, head } = readLog(rows.toArray());
    this.#visitors = visitors;
    this.#head = head;
  }

  get(clientId: string): StoredVisitor | undefined {
    return this.#visitors.get(clientId);
  }

  set(clientId: string, visitor: StoredVisitor): void {
    this.#visitors.set(clientId, visitor);
    this.#dirty.set(clientId, visitor);
  }

  forget(clientId: string): void {
    if (!this.#visitors.delete(clientId)) return;
    this.#dirty.set(clientId, null);
  }

  entries(): IterableIterator<[string, StoredVisitor]> {
    return this.#visitors.entries();
  }

  get size(): number {
    return this.#visitors.size;
  }

  /**
   * Writes what changed as one delta row (after a snapshot when the generation is full); returns
   * the rows written. Call inside `transactionSync`, before the RPC answers.
   */
  commit(): number {
    if (this.#dirty.size === 0) return 0;
    let written = 0;
    const delta = needsSnapshot(this.#head) ? undefined : deltaRow(this.#head, this.#dirty);
    // A full generation, or a change too large for one row (a migration, a huge batch): a snapshot.
    if (delta && delta.row.body.length <= MAX_CHUNK_CHARS) {
      written += this.#write(delta.row);
      this.#head = delta.head;
    } else {
      const snapshot = snapshotRows(this.#visitors, this.#head);
      for (const row of snapshot.rows) written += this.#write(row);
      this.#head = snapshot.head;
    }
    this.#dirty.clear();
    return written;
  }

  /**
   * Rewrites the log as one snapshot of the visitors held now and deletes every other row, so a
   * forgotten visitor's state is gone from storage too, not only ignored by the next read (a GDPR
   * erasure). Call inside `transactionSync`; returns the rows written.
   */
  rewrite(): number {
    this.#sql.exec("DELETE FROM visitor_log");
    const snapshot = snapshotRows(this.#visitors, this.#head);
    let written = 0;
    for (const row of snapshot.rows) written += this.#write(row);
    this.#head = snapshot.head;
    this.#dirty.clear();
    return written;
  }

  /** Forgets every visitor, in memory and in storage (a replay of the actors starts clean). */
  clear(): void {
    this.#sql.exec("DELETE FROM visitor_log");
    this.#visitors.clear();
    this.#dirty.clear();
    this.#head = { gen: 0, seq: 0, deltas: 0 };
  }

  #write(row: LogRow): number {
    return this.#sql.exec(
      // An upsert, not REPLACE: one row written, where REPLACE deletes and inserts.
      "INSERT INTO visitor_log (slot, gen, seq, body) VALUES (?, ?, ?, ?) ON CONFLICT (slot) DO UPDATE SET gen = excluded.gen, seq = excluded.seq, body = excluded.body",
      row.slot,
      row.gen,
      row.seq,
      row.body,
    ).rowsWritten;
  }
}

/**
 * Moves visitors kept by the earlier layout (one `visitors` row each) into the log, once, then
 * drops that table: a dev stack's data folder from before keeps its open sessions.
 */
export function migrateRowPerVisitor(sql: SqlStorage, store: VisitorStore): void {
  const legacy = sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'visitors'").toArray();
  if (legacy.length === 0) return;
  const rows = sql.exec<{ client_id: string; state: string; last_event_at: number }>(
    "SELECT client_id, state, last_event_at FROM visitors",
  );
  for (const row of rows)
    store.set(row.client_id, { state: decodeVisitor(row.state), last_event_at: row.last_event_at });
  store.commit();
  sql.exec("DROP TABLE visitors");
}
