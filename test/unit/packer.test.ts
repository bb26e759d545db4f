/**
 * The events packer (issue #14) on fake timers: who shares a message, when it leaves, who learns
 * what from a send, the 64 KB bound, the fallback when a shared send never settles, and the
 * requests-per-message model held to the packer itself under Poisson arrivals.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Event } from "../../core/event.ts";
import { Packer, type PackerOptions, type PackerTimers } from "../../core/ingest/packer.ts";
import { requestsPerMessage } from "../../core/ingest/packing-model.ts";
import { decodeEventsMessage, type EventsMessage, MAX_MESSAGE_BYTES } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const WINDOW = 10;
const FALLBACK = 1_000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

const fakeTimers: PackerTimers = {
  now: () => Date.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

let ids = 0;
/** `n` events, each `padding` characters larger (in custom dimensions of ≤ 500, the schema's bound). */
const events = (n: number, padding = 0): Event[] =>
  Array.from({ length: n }, () => {
    const dims = Array.from({ length: Math.ceil(padding / 500) }, (_, k) => [`d${k}`, "x".repeat(500)]);
    return makeEvent({ event_id: `e${++ids}`, custom_dimensions: padding > 0 ? Object.fromEntries(dims) : undefined });
  });

type Outcome = "resolved" | "rejected" | "pending";

/** Follows a promise's state without awaiting it. */
function watch(p: Promise<void>): { state: () => Outcome; error: () => unknown } {
  let state: Outcome = "pending";
  let error: unknown;
  p.then(
    () => {
      state = "resolved";
    },
    (e: unknown) => {
      state = "rejected";
      error = e;
    },
  );
  return { state: () => state, error: () => error };
}

interface Call {
  messages: EventsMessage[];
  bytes: number[];
  resolve(): void;
  reject(e: unknown): void;
}

/** A packer whose every send is recorded and settled by the test (or at once, with `autoSucceed`). */
function harness(options: Partial<PackerOptions> & { autoSucceed?: boolean } = {}) {
  const calls: Call[] = [];
  const kept: Promise<unknown>[] = [];
  const send = vi.fn((texts: string[]) => {
    let resolve = () => {};
    let reject: (e: unknown) => void = () => {};
    const p = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    calls.push({
      messages: texts.map((t) => {
        const d = decodeEventsMessage(t);
        if (!d.success) throw new Error(`not an EventsMessage: ${t.slice(0, 80)}`);
        return d.data;
      }),
      bytes: texts.map((t) => new TextEncoder().encode(t).byteLength),
      resolve,
      reject,
    });
    if (options.autoSucceed) resolve();
    return p;
  });
  const packer = new Packer({
    send,
    timers: fakeTimers,
    keepAlive: (w) => kept.push(w),
    windowMs: WINDOW,
    fallbackMs: FALLBACK,
    ...options,
  });
  return { packer, calls, send, kept };
}

const sentIds = (calls: Call[]) => calls.flatMap((c) => c.messages.flatMap((m) => m.events.map((e) => e.event_id)));
const flushMicrotasks = () => vi.advanceTimersByTimeAsync(0);

describe("Packer", () => {
  it("sends the events of requests within one window as one message, each once, and acknowledges none before it succeeds", async () => {
    const { packer, calls } = harness();
    const a = events(2);
    const b = events(1);
    const c = events(3);
    const pa = watch(packer.enqueue(a, Date.now()));
    await vi.advanceTimersByTimeAsync(3);
    const pb = watch(packer.enqueue(b, Date.now()));
    await vi.advanceTimersByTimeAsync(6);
    const pc = watch(packer.enqueue(c, Date.now()));
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1); // the window's end: 10 ms after the first request
    expect(calls).toHaveLength(1);
    expect(calls[0]?.messages).toHaveLength(1);
    expect(sentIds(calls)).toEqual([...a, ...b, ...c].map((e) => e.event_id));
    expect(calls[0]?.messages[0]?.events).toEqual(JSON.parse(JSON.stringify([...a, ...b, ...c])));
    expect([pa, pb, pc].map((p) => p.state())).toEqual(["pending", "pending", "pending"]);
    calls[0]?.resolve();
    await flushMicrotasks();
    expect([pa, pb, pc].map((p) => p.state())).toEqual(["resolved", "resolved", "resolved"]);
  });

  it("sends a lone request when its window ends, not before, and a later request in a window of its own", async () => {
    const { packer, calls } = harness({ autoSucceed: true });
    const p = watch(packer.enqueue(events(1), Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW - 1);
    expect(calls).toHaveLength(0);
    expect(p.state()).toBe("pending");
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    expect(p.state()).toBe("resolved");
    await vi.advanceTimersByTimeAsync(50);
    const q = watch(packer.enqueue(events(1), Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(calls).toHaveLength(2);
    expect(q.state()).toBe("resolved");
  });

  it("rejects every request of a shared send that fails, with its error", async () => {
    const { packer, calls } = harness();
    const pa = watch(packer.enqueue(events(1), Date.now()));
    const pb = watch(packer.enqueue(events(2), Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW);
    const failure = new Error("queue unavailable");
    calls[0]?.reject(failure);
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["rejected", "rejected"]);
    expect(pb.error()).toBe(failure);
    expect(calls).toHaveLength(1); // no retry behind the client's back
  });

  it("gives each message the earliest received_at of the requests in it", async () => {
    const { packer, calls } = harness({ autoSucceed: true });
    void packer.enqueue(events(1), 5_000);
    void packer.enqueue(events(1), 4_000);
    void packer.enqueue(events(1), 6_000);
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(calls[0]?.messages.map((m) => m.received_at)).toEqual([4_000]);
  });

  it("sends a draft as soon as the next events would pass maxBytes; the rest leaves at the window's end", async () => {
    const { packer, calls } = harness();
    // ~1.9 KB events: 25 of them are ~47 KB, so the second request's pass 64 KB.
    const first = events(25, 1_000);
    const second = events(25, 1_000);
    const pa = watch(packer.enqueue(first, Date.now()));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toHaveLength(0);
    const pb = watch(packer.enqueue(second, Date.now()));
    // The full draft left at once, in the second request's call, before the window's end.
    expect(calls).toHaveLength(1);
    const full = calls[0]?.messages[0];
    expect(calls[0]?.bytes[0]).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 100);
    expect(calls[0]?.bytes[0]).toBeGreaterThan(MAX_MESSAGE_BYTES - 2_500); // filled, event by event
    expect(full?.events.length).toBeGreaterThan(25);
    calls[0]?.resolve();
    await flushMicrotasks();
    // Acknowledged by the draft's owner, the first request, at its deadline: nothing before.
    expect([pa.state(), pb.state()]).toEqual(["pending", "pending"]);
    await vi.advanceTimersByTimeAsync(WINDOW - 3);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1); // the same deadline: 10 ms after the first request
    // The rest, in the second request's draft, left then; the first request is all in the early send.
    expect(calls).toHaveLength(2);
    expect([pa.state(), pb.state()]).toEqual(["resolved", "pending"]);
    calls[1]?.resolve();
    await flushMicrotasks();
    expect(pb.state()).toBe("resolved");
    expect(sentIds(calls)).toEqual([...first, ...second].map((e) => e.event_id));
    await vi.advanceTimersByTimeAsync(FALLBACK * 2);
    expect(calls).toHaveLength(2);
  });

  it("resolves a request split over two sends only when both succeeded, and rejects it when the second fails", async () => {
    const { packer, calls } = harness();
    const pa = watch(packer.enqueue(events(30, 1_000), Date.now()));
    const pb = watch(packer.enqueue(events(30, 1_000), Date.now()));
    expect(calls).toHaveLength(1);
    calls[0]?.resolve();
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(calls).toHaveLength(2);
    expect(pa.state()).toBe("resolved");
    expect(pb.state()).toBe("pending");
    calls[1]?.reject(new Error("down"));
    await flushMicrotasks();
    expect(pb.state()).toBe("rejected");
  });

  it("sends at most messagesPerSend messages a call (sendBatch's 256 KB)", async () => {
    const { packer, calls } = harness({ autoSucceed: true });
    const size = new TextEncoder().encode(JSON.stringify(events(1, 1_000)[0])).byteLength;
    const perMessage = Math.floor((MAX_MESSAGE_BYTES - 1) / (size + 1));
    // Six full drafts and one event more in one request: the six leave at once, in calls of 3 and 3.
    const big = events(6 * perMessage + 1, 1_000);
    const p = watch(packer.enqueue(big, Date.now()));
    expect(calls.map((c) => c.messages.length)).toEqual([3, 3]);
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(calls.map((c) => c.messages.length)).toEqual([3, 3, 1]);
    expect(p.state()).toBe("resolved");
    expect(sentIds(calls)).toEqual(big.map((e) => e.event_id));
    for (const c of calls) for (const b of c.bytes) expect(b).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 100);
  });

  it("with a window of 0 sends each request's events at once, in messages of its own", async () => {
    const { packer, calls, kept } = harness({ autoSucceed: true, windowMs: 0 });
    const a = events(2);
    const pa = watch(packer.enqueue(a, 7));
    expect(calls).toHaveLength(1);
    const pb = watch(packer.enqueue(events(1), 8));
    expect(calls).toHaveLength(2);
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["resolved", "resolved"]);
    expect(calls[0]?.messages).toEqual([{ v: 1, received_at: 7, events: JSON.parse(JSON.stringify(a)) }]);
    expect(vi.getTimerCount()).toBe(0);
    expect(kept).toHaveLength(0);
  });

  it("keeps alive each context that sends: a draft's owner until its outcome, an early sender until its send", async () => {
    const { packer, kept } = harness({ autoSucceed: true });
    void packer.enqueue(events(1), Date.now());
    expect(kept).toHaveLength(1); // the draft it opened
    void packer.enqueue(events(1), Date.now());
    expect(kept).toHaveLength(1); // joining opens nothing
    // ~75 KB: fills the open draft, sends it early, and opens one draft for the rest.
    void packer.enqueue(events(40, 1_000), Date.now());
    expect(kept).toHaveLength(3);
    let settled = 0;
    for (const k of kept) void k.then(() => settled++);
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(settled).toBe(3);
  });
});

describe("Packer's fallback", () => {
  it("a request that joined a draft whose send never settles sends its own events after the bound, and answers by that send", async () => {
    const { packer, calls } = harness();
    const a = events(2);
    const b = events(1);
    const pa = watch(packer.enqueue(a, 1));
    const pb = watch(packer.enqueue(b, 2));
    await vi.advanceTimersByTimeAsync(WINDOW);
    expect(calls).toHaveLength(1); // the shared send, made by the draft's owner, which never settles
    await vi.advanceTimersByTimeAsync(FALLBACK - 1);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    // The joined request sent its own events, alone, with its own received_at.
    expect(calls).toHaveLength(2);
    expect(calls[1]?.messages).toEqual([{ v: 1, received_at: 2, events: JSON.parse(JSON.stringify(b)) }]);
    calls[1]?.resolve();
    await flushMicrotasks();
    // The owner made the send in its own context: it waits on it, as an unpacked request would.
    expect([pa.state(), pb.state()]).toEqual(["pending", "resolved"]);
    calls[0]?.resolve();
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["resolved", "resolved"]);
  });

  it("a joined request's own send failing answers it with that failure; the shared send settling later changes nothing", async () => {
    const { packer, calls } = harness();
    const pa = watch(packer.enqueue(events(1), 1));
    const pb = watch(packer.enqueue(events(1), 2));
    await vi.advanceTimersByTimeAsync(WINDOW + FALLBACK);
    expect(calls).toHaveLength(2);
    calls[1]?.reject(new Error("still down"));
    await flushMicrotasks();
    expect(pb.state()).toBe("rejected");
    calls[0]?.resolve();
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["resolved", "rejected"]);
  });

  it("does not send twice when the shared send succeeded within the bound: the fallback timer is cleared", async () => {
    const { packer, calls } = harness();
    const pa = watch(packer.enqueue(events(1), Date.now()));
    const pb = watch(packer.enqueue(events(1), Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW + FALLBACK / 2);
    calls[0]?.resolve();
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["resolved", "resolved"]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(FALLBACK * 2);
    expect(calls).toHaveLength(1);
  });

  it("a request that joined a draft whose owner is gone (its timer never fires) sends its own events after the bound", async () => {
    // The first draft's timer never fires, as a cancelled request's would not; its own answer no
    // longer matters (its client saw the request fail), the joined one's does.
    let lost = false;
    const timers: PackerTimers = {
      ...fakeTimers,
      setTimer: (fn, ms) => {
        const lose = !lost && ms <= WINDOW;
        lost ||= lose;
        return setTimeout(lose ? () => {} : fn, ms);
      },
    };
    const { packer, calls } = harness({ timers, autoSucceed: true });
    void packer.enqueue(events(1), Date.now());
    const b = events(1);
    const pb = watch(packer.enqueue(b, Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW + FALLBACK - 1);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(sentIds(calls)).toEqual(b.map((e) => e.event_id));
    expect(pb.state()).toBe("resolved");
  });

  it("a request arriving after a draft's deadline (its owner's timer late or gone) does not join it", async () => {
    let lost = false;
    const timers: PackerTimers = {
      ...fakeTimers,
      setTimer: (fn, ms) => {
        const lose = !lost && ms <= WINDOW;
        lost ||= lose;
        return setTimeout(lose ? () => {} : fn, ms);
      },
    };
    const { packer, calls } = harness({ timers, autoSucceed: true });
    void packer.enqueue(events(1), Date.now());
    await vi.advanceTimersByTimeAsync(WINDOW + 5);
    const b = events(1);
    const pb = watch(packer.enqueue(b, Date.now()));
    await vi.advanceTimersByTimeAsync(WINDOW);
    // The newcomer's draft left alone at its own deadline; it set no fallback, owning its draft.
    expect(calls.map((c) => c.messages.map((m) => m.events.map((e) => e.event_id)))).toEqual([
      [b.map((e) => e.event_id)],
    ]);
    expect(pb.state()).toBe("resolved");
  });

  it("an owner whose draft another request sent early, a send that never settles, sends the draft again after the bound", async () => {
    const { packer, calls } = harness();
    const first = events(25, 1_000);
    const second = events(25, 1_000);
    const pa = watch(packer.enqueue(first, Date.now()));
    await vi.advanceTimersByTimeAsync(2);
    const pb = watch(packer.enqueue(second, Date.now()));
    expect(calls).toHaveLength(1); // the early send, from the second request: never settles
    await vi.advanceTimersByTimeAsync(WINDOW - 2);
    expect(calls).toHaveLength(2); // the rest, from the second request's own draft
    calls[1]?.resolve();
    await vi.advanceTimersByTimeAsync(FALLBACK - 1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    // The owner's copy of its draft, the same message again, from its own context.
    expect(calls).toHaveLength(3);
    expect(calls[2]?.messages).toEqual(calls[0]?.messages);
    calls[2]?.resolve();
    await flushMicrotasks();
    expect([pa.state(), pb.state()]).toEqual(["resolved", "resolved"]);
    // The second request was answered by it before its own fallback was due.
    await vi.advanceTimersByTimeAsync(FALLBACK);
    expect(calls).toHaveLength(3);
  });
});

describe("requestsPerMessage", () => {
  it("is 1 without packing, 1 + λ while a window fits one message, and M / b when messages are full", () => {
    expect(requestsPerMessage(10, 0, 1_000)).toBe(1);
    expect(requestsPerMessage(10, 10, 1_000)).toBeCloseTo(1.1, 10);
    expect(requestsPerMessage(100, 10, 1_000)).toBeCloseTo(2, 3); // a window's 2 KB fit 64 KB, nearly always
    expect(requestsPerMessage(1_000_000, 10, 1_000)).toBeCloseTo(64, 0);
    expect(requestsPerMessage(10, 10, 128_000)).toBeCloseTo(0.5, 1);
  });

  it.each([
    [100, 10, 1],
    [1_000, 10, 4],
    [3_000, 10, 12],
    [500, 20, 40],
  ])(
    "matches the packer itself under Poisson arrivals: %i requests/s, a %i ms window, %i events a request",
    async (rate, windowMs, perRequest) => {
      // Time advances synchronously (fast); sends settle in microtasks only at the end, so the
      // fallback timers (longer than the window) are not set at all.
      const timers: PackerTimers = {
        ...fakeTimers,
        setTimer: (fn, ms) => (ms > windowMs ? undefined : setTimeout(fn, ms)),
        clearTimer: (h) => h !== undefined && clearTimeout(h as ReturnType<typeof setTimeout>),
      };
      const { packer, calls } = harness({ autoSucceed: true, windowMs, timers });
      let seed = 7;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return (seed + 1) / (2 ** 31 + 1);
      };
      const requests = 2_000;
      const body = events(perRequest, 400);
      const bytes = new TextEncoder().encode(JSON.stringify(body)).byteLength;
      const pending: Promise<void>[] = [];
      for (let i = 0; i < requests; i++) {
        pending.push(packer.enqueue(body, Date.now()));
        vi.advanceTimersByTime(-Math.log(random()) * (1000 / rate));
      }
      vi.advanceTimersByTime(windowMs);
      await Promise.all(pending);
      const messages = calls.reduce((n, c) => n + c.messages.length, 0);
      expect(Math.abs(requests / messages / requestsPerMessage(rate, windowMs, bytes) - 1)).toBeLessThan(0.05);
    },
    // 2,000 requests of up to 40 events each are serialised: seconds of CPU on a busy machine.
    30_000,
  );
});
