/**
 * SessionDO: a session actor for one bucket of one property's visitors (key `property|bucket`).
 * It hosts the pure session reducer over visitor states kept in SQLite, answers each event with
 * its session id and whether it opened a session or repeats one, and returns every session change
 * it made. An alarm closes expired sessions and forgets visitors idle for a day.
 */
import { DurableObject } from "cloudflare:workers";
import type { Event } from "../core/event.ts";
import { decodeVisitor, encodeVisitor } from "../core/session/codec.ts";
import {
  advanceSession,
  EMPTY_VISITOR,
  expired,
  SESSION_TIMEOUT_MS,
  type Session,
  type SessionChange,
  type VisitorState,
} from "../core/session/session.ts";

/** How long a visitor's recent event ids are kept for duplicate detection after their last event. */
const FORGET_AFTER_MS = 24 * 3600_000;
/** SQLite binds at most 100 parameters per statement in Durable Objects. */
const IN_CHUNK = 90;

export interface AppliedEvent {
  event_id: string;
  session_id: string;
  is_new_session: boolean;
  is_duplicate: boolean;
}

export interface ApplyResult {
  /** One per input event, in input order (the same event id twice gets two answers). */
  outcomes: AppliedEvent[];
  /** Every session change, in order (for the live windows and the consumer's session_log rows). */
  changes: SessionChange[];
  /**
   * Open sessions that repeated events belong to and that this call did not change: on a
   * redelivery, the consumer checks that session_log holds their latest state (the first delivery
   * may have reached the actors but not ClickHouse).
   */
  resync: Session[];
  /** SQLite rows this call wrote (billing unit), for the cost measurements. */
  rows_written: number;
}

export class SessionDO extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // `last_event_at` holds when the row was last written (processing time): the alarm closes and
    // forgets by it, so a backlog being worked through is not cut into sessions by the wall clock.
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS visitors (client_id TEXT PRIMARY KEY, state TEXT NOT NULL, last_event_at INTEGER NOT NULL)",
    );
  }

  /** Applies a batch (one RPC per actor per consumer batch), in event-time order, in one transaction. */
  async applyEvents(events: Event[], now: number, timeoutMs = SESSION_TIMEOUT_MS): Promise<ApplyResult> {
    const states = this.#load([...new Set(events.map((e) => e.client_id))]);
    const outcomes: AppliedEvent[] = new Array(events.length);
    const changes: SessionChange[] = [];
    const order = events
      .map((_, i) => i)
      .sort((a, b) => (events[a]?.event_timestamp ?? 0) - (events[b]?.event_timestamp ?? 0));
    for (const i of order) {
      const e = events[i] as Event;
      const step = advanceSession(states.get(e.client_id) ?? EMPTY_VISITOR, e, timeoutMs);
      states.set(e.client_id, step.state);
      outcomes[i] = { event_id: e.event_id, ...step.outcome };
      changes.push(...step.emitted);
    }
    const changed = new Set(changes.map((c) => c.current.session_id));
    const resync = new Map<string, Session>();
    for (const [i, o] of outcomes.entries()) {
      const open = states.get(events[i]?.client_id ?? "")?.session;
      if (o.is_duplicate && open?.session_id === o.session_id && !changed.has(o.session_id))
        resync.set(o.session_id, open);
    }
    let rowsWritten = 0;
    this.ctx.storage.transactionSync(() => {
      for (const [clientId, state] of states) {
        const sql = "INSERT OR REPLACE INTO visitors VALUES (?, ?, ?)";
        rowsWritten += this.ctx.storage.sql.exec(sql, clientId, encodeVisitor(state), now).rowsWritten;
      }
    });
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(now + timeoutMs);
      rowsWritten++; // setAlarm is billed as one row written
    }
    return { outcomes, changes, resync: [...resync.values()], rows_written: rowsWritten };
  }

  /** Closes sessions past their timeout and forgets visitors idle for a day; re-arms while any remain. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.sql.exec("DELETE FROM visitors WHERE last_event_at < ?", now - FORGET_AFTER_MS);
    const rows = this.ctx.storage.sql
      .exec<{ client_id: string; state: string }>(
        "SELECT client_id, state FROM visitors WHERE last_event_at < ?",
        now - SESSION_TIMEOUT_MS,
      )
      .toArray();
    this.ctx.storage.transactionSync(() => {
      for (const row of rows) {
        const state = decodeVisitor(row.state);
        if (!expired(state, now)) continue;
        const closed: VisitorState = {
          session: null,
          previous_session_id: state.session?.session_id ?? "",
          recent: state.recent,
        };
        this.ctx.storage.sql.exec(
          "UPDATE visitors SET state = ? WHERE client_id = ?",
          encodeVisitor(closed),
          row.client_id,
        );
      }
    });
    const next = this.ctx.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM visitors").one().n;
    if (next > 0) await this.ctx.storage.setAlarm(now + SESSION_TIMEOUT_MS);
  }

  /** Forgets every visitor (replay of the actors starts from a clean state). */
  async reset(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM visitors");
  }

  /** Open sessions and stored bytes per visitor: for tests and the bench's state-size figure. */
  async stats(): Promise<{ visitors: number; open_sessions: number; avg_state_bytes: number }> {
    const rows = this.ctx.storage.sql.exec<{ state: string }>("SELECT state FROM visitors").toArray();
    const open = rows.filter((r) => decodeVisitor(r.state).session !== null).length;
    const bytes = rows.reduce((n, r) => n + r.state.length, 0);
    return {
      visitors: rows.length,
      open_sessions: open,
      avg_state_bytes: rows.length ? Math.round(bytes / rows.length) : 0,
    };
  }

  #load(clientIds: string[]): Map<string, VisitorState> {
    const states = new Map<string, VisitorState>();
    for (let i = 0; i < clientIds.length; i += IN_CHUNK) {
      const chunk = clientIds.slice(i, i + IN_CHUNK);
      const sql = `SELECT client_id, state FROM visitors WHERE client_id IN (${chunk.map(() => "?").join(",")})`;
      for (const row of this.ctx.storage.sql.exec<{ client_id: string; state: string }>(sql, ...chunk)) {
        states.set(row.client_id, decodeVisitor(row.state));
      }
    }
    return states;
  }
}
