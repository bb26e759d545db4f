/**
 * Group commit for the events queue (issue #14): the events of concurrent requests in one isolate
 * leave in shared messages. A queue message is billed per 64 KB, and a request carries ~1 KB an
 * event, so one message per request wastes nearly all of what is paid for.
 *
 * A window opens when a request finds no draft message open and lasts `windowMs`; every request
 * that arrives meanwhile adds its events to the open draft, and the window's end sends it. A draft
 * that would pass `maxBytes` closes and is sent at once by the request that filled it; the rest
 * goes into a new draft with the same deadline. A request's promise resolves only when every draft
 * holding its events was sent, and rejects when one send failed: a 202 still means "durably
 * queued" for every request in a shared message, and a failed shared send fails them all.
 *
 * Who settles what (this is what makes it safe in workerd): every promise is settled in the
 * request context that created it, and requests only await each other's promises. A draft belongs
 * to the request that opened it, whose timer ends the window: it sends the draft, or follows the
 * early send another request made of it (and sends the draft again itself if that send has not
 * settled within `fallbackMs`). A request that joined another's draft answers by that draft's
 * outcome or, past `windowMs + fallbackMs`, by a send of its own events from its own context.
 * workerd lets a request await a promise of another request, but a promise settled from another
 * request's context runs its continuations there (`no_handle_cross_request_promise_resolution`,
 * which vitest's workers pool sets) or drops them when their request has ended (the default since
 * 2024-10-14, production): nothing here depends on either.
 *
 * Pure: timers, the sender and the runtime's keep-alive are injected (workers/collect/queue.ts in
 * workerd, fakes in test/unit/packer.test.ts). Each call of `send` and each timer runs in the
 * context of the request whose call set it up.
 */
import type { Event } from "../event.ts";
import { envelope, MAX_MESSAGE_BYTES, packMessages, utf8Length } from "./queue-message.ts";

/**
 * How long a window stays open: the latency packing adds to the request that opens it, and at
 * most to the others (issue #14 allows 25 ms at p95). `npm run bench:packing` measured the added
 * p95 at about the window plus 0–5 ms: with 10 ms, 10–15 ms at 10 and 100 requests/s per isolate
 * (up to 24 ms while other work shared the machine's two cores); with 20 ms, 22–25 ms, at the
 * budget's edge. 10 ms keeps room for a busy isolate. Requests per message grow as
 * 1 + rate·window (`requestsPerMessage`): 1.1 at 10 requests/s, 2 at 100, as measured.
 */
export const PACK_WINDOW_MS = 10;

/**
 * How long past its window a request that joined another's draft waits before it sends its own
 * events itself (and an owner, before it sends its draft again when another request's early send
 * of it has not settled). A send normally settles within milliseconds; the bound is for a request
 * context the runtime ended early, with the send or the draft's timer in it.
 */
export const PACK_FALLBACK_MS = 1_000;

/** sendBatch takes ≤ 256 KB: three messages of ≤ 64 KB (MAX_MESSAGE_BYTES) and their framing fit. */
export const MESSAGES_PER_SEND = 3;

/** The host's clock and timers: `Date.now`/`setTimeout`/`clearTimeout` in workerd, fakes in tests. */
export interface PackerTimers {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

export interface PackerOptions {
  /** Sends message texts (≤ `messagesPerSend`) in one call; runs in the caller's request context. */
  send(messages: string[]): Promise<unknown>;
  timers: PackerTimers;
  /** Keeps the current request context alive until `work` settles (workerd's `waitUntil`). */
  keepAlive?(work: Promise<unknown>): void;
  /** 0 turns packing off: each request sends its own events at once, as before packing. */
  windowMs?: number;
  fallbackMs?: number;
  maxBytes?: number;
  messagesPerSend?: number;
}

/** A message being filled, and the promise its waiters await. */
interface Draft {
  parts: string[];
  /** Size of the JSON array of `parts`. */
  bytes: number;
  receivedAt: number;
  deadline: number;
  /** The send carrying it, once someone started it. */
  sent: Promise<unknown> | null;
  /** Settled by its owner only: sent, or the send failed. */
  outcome: Promise<void>;
  settled: boolean;
  settle(sent: Promise<unknown>): void;
}

const ignore = () => {};

const messageText = (d: Draft) => envelope(d.receivedAt, `[${d.parts.join(",")}]`);

/** Packs the events of concurrent requests into shared messages for one queue. */
export class Packer {
  private readonly options: Required<Omit<PackerOptions, "keepAlive">> & Pick<PackerOptions, "keepAlive">;
  private open: Draft | null = null;

  constructor(options: PackerOptions) {
    this.options = {
      windowMs: PACK_WINDOW_MS,
      fallbackMs: PACK_FALLBACK_MS,
      maxBytes: MAX_MESSAGE_BYTES,
      messagesPerSend: MESSAGES_PER_SEND,
      ...options,
    };
  }

  /**
   * Adds one request's events (all for this queue) and resolves once the sends carrying every one
   * of them succeeded; rejects with the failure of a send that carried any.
   */
  async enqueue(events: readonly Event[], receivedAt: number): Promise<void> {
    if (events.length === 0) return;
    const { timers, windowMs, fallbackMs } = this.options;
    const { outcomes, joined } = this.add(events, receivedAt);
    const [first] = outcomes;
    const sent: Promise<unknown> = outcomes.length === 1 && first ? first : Promise.all(outcomes);
    if (!joined || windowMs <= 0) {
      // Every draft holding its events is its own: its own timer or call sends them, as an
      // unpacked request's own call would.
      await sent;
      return;
    }
    // A request that joined another's draft has a safety net: workerd cancels a request's timers
    // and continuations with its context, so if the owner's context ends early this request could
    // wait for ever. Past the bound it sends its own events itself. A duplicate is safe
    // downstream: events carry event_id, session actors mark a repeat so the consumer does not
    // count it twice, and archive compaction keeps one row per event_id. While it waits, the
    // pending timer also keeps this request from looking idle to the runtime.
    let timer: unknown;
    const own = new Promise<void>((resolve, reject) => {
      const fallback = () => this.sendOwn(events, receivedAt).then(() => resolve(), reject);
      timer = timers.setTimer(fallback, windowMs + fallbackMs);
    });
    try {
      await Promise.race([sent, own]);
    } finally {
      // After the await, in this request's own context: a timer is cleared where it was set.
      timers.clearTimer(timer);
    }
  }

  /** Places the events; returns the outcomes of the drafts holding them, and whether the first is another request's. */
  private add(events: readonly Event[], receivedAt: number): { outcomes: Promise<void>[]; joined: boolean } {
    const now = this.options.timers.now();
    // A draft past its deadline is its owner's to send (its timer is late, or its request gone):
    // no one joins it any more.
    if (this.open && now >= this.open.deadline) this.open = null;
    const found = this.open;
    const deadline = found?.deadline ?? now + this.options.windowMs;
    const outcomes: Promise<void>[] = [];
    const full: Draft[] = [];
    const whole = JSON.stringify(events);
    const bytes = utf8Length(whole) - 2;
    if (this.fits(bytes)) {
      this.append(whole.slice(1, -1), bytes, receivedAt, deadline, outcomes, full);
    } else {
      for (const event of events) {
        const json = JSON.stringify(event);
        this.append(json, utf8Length(json), receivedAt, deadline, outcomes, full);
      }
    }
    if (this.options.windowMs <= 0 && this.open) {
      full.push(this.open);
      this.open = null;
    }
    if (full.length > 0) this.sendEarly(full, found);
    return { outcomes, joined: found !== null && outcomes[0] === found.outcome };
  }

  /** Whether `bytes` more of JSON fit the open draft, or an empty one when none is open. */
  private fits(bytes: number): boolean {
    const d = this.open;
    return !d || d.parts.length === 0
      ? 2 + bytes <= this.options.maxBytes
      : d.bytes + 1 + bytes <= this.options.maxBytes;
  }

  private append(
    json: string,
    bytes: number,
    receivedAt: number,
    deadline: number,
    outcomes: Promise<void>[],
    full: Draft[],
  ): void {
    // An event larger than a message goes alone into one (the 32 KB event bound makes that theory).
    if (this.open && this.open.parts.length > 0 && !this.fits(bytes)) {
      full.push(this.open);
      this.open = null;
    }
    let d = this.open;
    if (!d) {
      d = this.openDraft(deadline);
      this.open = d;
    }
    d.bytes += (d.parts.length > 0 ? 1 : 0) + bytes;
    d.parts.push(json);
    if (receivedAt < d.receivedAt) d.receivedAt = receivedAt;
    if (outcomes[outcomes.length - 1] !== d.outcome) outcomes.push(d.outcome);
  }

  /** A new draft owned by the current request: its outcome is settled only here, by its timer or its send. */
  private openDraft(deadline: number): Draft {
    let resolve: () => void = ignore;
    let reject: (cause: unknown) => void = ignore;
    const outcome = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const draft: Draft = {
      parts: [],
      bytes: 2,
      receivedAt: Number.POSITIVE_INFINITY,
      deadline,
      sent: null,
      outcome,
      settled: false,
      settle: (sent) => {
        if (draft.settled) return;
        draft.settled = true;
        sent.then(
          () => resolve(),
          (cause: unknown) => reject(cause ?? new Error("queue send failed")),
        );
      },
    };
    const { windowMs, timers, keepAlive } = this.options;
    if (windowMs > 0) {
      // The window's end, in the owner's context: send the draft, or settle it by the send another
      // request already made.
      timers.setTimer(
        () => {
          if (this.open === draft) this.open = null;
          if (draft.settled) return;
          if (draft.sent) draft.settle(this.relay(draft, draft.sent));
          else draft.settle(this.sendDrafts([draft])[0] ?? Promise.reject(new Error("queue send not started")));
        },
        Math.max(0, deadline - timers.now()),
      );
      keepAlive?.(outcome.catch(ignore));
    }
    return draft;
  }

  /**
   * The early send another request made of this owner's draft, followed from the owner's context;
   * if it has not settled within the bound (that request's context gone), the owner sends the draft
   * again itself (a duplicate, safe as the fallback's).
   */
  private relay(draft: Draft, sent: Promise<unknown>): Promise<unknown> {
    const { timers, fallbackMs } = this.options;
    return new Promise((resolve, reject) => {
      const bound = timers.setTimer(() => {
        this.sendSafely([messageText(draft)]).then(resolve, reject);
      }, fallbackMs);
      sent.then(
        (value) => {
          timers.clearTimer(bound);
          resolve(value);
        },
        (cause: unknown) => {
          timers.clearTimer(bound);
          reject(cause);
        },
      );
    });
  }

  /**
   * Sends full drafts now, from the current request. The drafts it opened in this call it settles
   * at once; the draft it found open is another request's, settled by that request's timer.
   */
  private sendEarly(drafts: Draft[], found: Draft | null): void {
    const sends = this.sendDrafts(drafts);
    if (this.options.windowMs > 0) this.options.keepAlive?.(Promise.allSettled(sends));
    for (const d of drafts) if (d !== found && d.sent) d.settle(d.sent);
  }

  /** Sends drafts, `messagesPerSend` a call; records each draft's send. */
  private sendDrafts(drafts: Draft[]): Promise<unknown>[] {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < drafts.length; i += this.options.messagesPerSend) {
      const group = drafts.slice(i, i + this.options.messagesPerSend);
      const sent = this.sendSafely(group.map(messageText));
      // Handled here: the owner may attach its own handlers only at its deadline.
      sent.catch(ignore);
      for (const d of group) d.sent = sent;
      sends.push(sent);
    }
    return sends;
  }

  private sendSafely(texts: string[]): Promise<unknown> {
    try {
      return this.options.send(texts);
    } catch (cause) {
      return Promise.reject(cause);
    }
  }

  /** The request's own send of its own events, in its own context, when the shared one did not settle in time. */
  private sendOwn(events: readonly Event[], receivedAt: number): Promise<unknown> {
    const messages = packMessages(events, receivedAt, this.options.maxBytes);
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < messages.length; i += this.options.messagesPerSend)
      sends.push(this.sendSafely(messages.slice(i, i + this.options.messagesPerSend)));
    return Promise.all(sends);
  }
}
