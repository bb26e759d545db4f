/**
 * SessionDO: a session actor for one bucket of one property's visitors (key `property|bucket`).
 * It hosts the pure session reducer over visitor states kept in memory and persisted as a log of a
 * few rows (visitor-store.ts: one row per commit, not one per visitor — SQLite rows written are
 * billed one by one), answers each event with its session id and whether it opened a session or
 * repeats one, and returns every session change it made. Every call returns only after the commit
 * that holds it (calls within ACTOR_COMMIT_MS share one: group-commit.ts), so an eviction or crash
 * loses nothing it acknowledged. An alarm closes expired sessions and forgets visitors idle for a day.
 */
import { DurableObject } from "cloudflare:workers";
import type { Event } from "../core/event.ts";
import { encodeVisitor } from "../core/session/codec.ts";
import {
  advanceSession,
  EMPTY_VISITOR,
  expired,
  SESSION_TIMEOUT_MS,
  type Session,
  type SessionChange,
  type VisitorState,
} from "../core/session/session.ts";
import { loadConfig } from "../platform/config.ts";
import { GroupCommit } from "./group-commit.ts";
import { migrateRowPerVisitor, VisitorStore } from "./visitor-store.ts";

/** How long a visitor's recent event ids are kept for duplicate detection after their last event. */
const FORGET_AFTER_MS = 24 * 3600_000;

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
  /** The actor's visitors (tests reach it through runInDurableObject). */
  readonly visitors: VisitorStore;
  /** Calls within ACTOR_COMMIT_MS share one commit; the first call of a group reports its rows. */
  readonly #commits: GroupCommit<number, number>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.visitors = new VisitorStore(ctx.storage.sql);
    this.#commits = new GroupCommit(loadConfig(env).ACTOR_COMMIT_MS, (nows) => this.#commit(nows));
    // Visitors kept one row each before the log (dropped once read: nothing else reads it).
    migrateRowPerVisitor(ctx.storage.sql, this.visitors);
  }

  /** Applies a batch (one RPC per actor per consumer batch), in event-time order, committed before it answers. */
  async applyEvents(events: Event[], now: number, timeoutMs = SESSION_TIMEOUT_MS): Promise<ApplyResult> {
    const states = new Map<string, VisitorState>();
    for (const e of events) states.set(e.client_id, this.visitors.get(e.client_id)?.state ?? EMPTY_VISITOR);
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
    // `last_event_at` is processing time: the alarm closes and forgets by it, so a backlog being
    // worked through is not cut into sessions by the wall clock.
    for (const [clientId, state] of states) this.visitors.set(clientId, { state, last_event_at: now });
    // Calls in the same group see each other's states before the commit; they commit (or fail) together.
    const rowsWritten = await this.#commits.run(now + timeoutMs);
    return { outcomes, changes, resync: [...resync.values()], rows_written: rowsWritten };
  }

  /** One commit for a group of calls (each names when its sessions time out): the visitors' log row, and the alarm if none is set. */
  async #commit(timeouts: number[]): Promise<number[]> {
    let rowsWritten: number;
    try {
      rowsWritten = this.ctx.storage.transactionSync(() => this.visitors.commit());
    } catch (error) {
      // Memory now holds states its callers are told failed: drop the instance, so the consumer's
      // retry finds the visitors as the log left them and counts its events as new, not repeats.
      this.ctx.abort("visitor log commit failed");
      throw error;
    }
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Math.min(...timeouts));
      rowsWritten++; // setAlarm is billed as one row written
    }
    return timeouts.map((_, i) => (i === 0 ? rowsWritten : 0));
  }

  /** Closes sessions past their timeout and forgets visitors idle for a day; re-arms while any remain. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const [clientId, { state, last_event_at }] of [...this.visitors.entries()]) {
      if (last_event_at < now - FORGET_AFTER_MS) this.visitors.forget(clientId);
      else if (last_event_at < now - SESSION_TIMEOUT_MS && expired(state, now)) {
        const closed: VisitorState = {
          session: null,
          previous_session_id: state.session?.session_id ?? "",
          recent: state.recent,
        };
        this.visitors.set(clientId, { state: closed, last_event_at });
      }
    }
    this.ctx.storage.transactionSync(() => this.visitors.commit());
    if (this.visitors.size > 0) await this.ctx.storage.setAlarm(now + SESSION_TIMEOUT_MS);
  }

  /**
   * Forgets these visitors (a GDPR erasure): their open sessions and the event ids kept to spot
   * repeats, from memory and from storage, before it answers. Returns how many it held.
   */
  async forget(clientIds: string[]): Promise<number> {
    const held = clientIds.filter((id) => this.visitors.get(id) !== undefined);
    for (const id of held) this.visitors.forget(id);
    if (held.length > 0) this.ctx.storage.transactionSync(() => this.visitors.rewrite());
    return held.length;
  }

  /** Forgets every visitor (replay of the actors starts from a clean state). */
  async reset(): Promise<void> {
    this.visitors.clear();
  }

  /** Open sessions and stored bytes per visitor: for tests and the bench's state-size figure. */
  async stats(): Promise<{ visitors: number; open_sessions: number; avg_state_bytes: number }> {
    let open = 0;
    let bytes = 0;
    for (const [, v] of this.visitors.entries()) {
      if (v.state.session !== null) open++;
      bytes += encodeVisitor(v.state).length;
    }
    const n = this.visitors.size;
    return { visitors: n, open_sessions: open, avg_state_bytes: n ? Math.round(bytes / n) : 0 };
  }
}
