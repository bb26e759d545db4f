/** POST /collect in workerd: the contract, the envelope, and the queue messages it produces. */
import { env } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type EventsMessage, MAX_MESSAGE_BYTES } from "../../core/ingest/queue-message.ts";
import { configurePacking } from "../../workers/collect/queue.ts";
import { call, createProperty, envelope, sentMessage } from "./helpers.ts";

const PROPERTY = "UA-COLLECT-1";
const pageview = { property_id: PROPERTY, client_id: "c1", event_type: "pageview", page_url: "https://example.com/" };
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function post(body: BodyInit | unknown, headers: Record<string, string> = {}): Promise<Response> {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  return call("/collect", { method: "POST", body: raw, headers });
}

function watchQueue() {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  return () => send.mock.calls.flatMap(([batch]) => [...batch].map((m) => sentMessage(m)));
}

beforeAll(async () => {
  await createProperty({ property_id: PROPERTY, domains: ["example.com"] });
});
afterEach(() => vi.restoreAllMocks());

describe("POST /collect", () => {
  it("accepts one event with 202, assigns a UUIDv7 and queues it", async () => {
    const sent = watchQueue();
    const res = await post(pageview);
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_id: string }>();
    expect(body).toEqual({ status: "accepted", event_id: expect.stringMatching(UUID_V7) });
    const [message] = sent();
    expect(message?.events).toEqual([
      expect.objectContaining({ ...pageview, event_id: body.event_id, visitor_id_source: "client" }),
    ]);
    expect(Math.abs((message?.received_at ?? 0) - Date.now())).toBeLessThan(60_000);
  });

  it.each([
    ["a JSON array", (events: unknown[]) => events],
    ['{"events":[…]}', (events: unknown[]) => ({ events })],
  ])("accepts a batch as %s, answering every id in order in one queue message", async (_shape, wrap) => {
    const sent = watchQueue();
    const events = [pageview, { ...pageview, event_type: "signup", event_id: "client-chosen-1" }, pageview];
    const res = await post(wrap(events));
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_ids: string[] }>();
    expect(body.event_ids).toHaveLength(3);
    expect(body.event_ids[1]).toBe("client-chosen-1");
    const messages: EventsMessage[] = sent();
    expect(messages).toHaveLength(1);
    expect(messages[0]?.events.map((e) => e.event_id)).toEqual(body.event_ids);
  });

  it("accepts text/plain bodies (sendBeacon) and all timestamp forms", async () => {
    const sent = watchQueue();
    const ts = Date.now() - 3600_000;
    const events = [
      { ...pageview, event_timestamp: ts / 1000 },
      { ...pageview, event_timestamp: ts },
      { ...pageview, event_timestamp: new Date(ts).toISOString() },
    ];
    const res = await post(JSON.stringify(events), { "Content-Type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(202);
    expect(sent()[0]?.events.map((e) => e.event_timestamp)).toEqual(Array(3).fill(ts));
  });

  it("accepts gzip-compressed bodies", async () => {
    const sent = watchQueue();
    const gz = new Response(new Blob([JSON.stringify(pageview)]).stream().pipeThrough(new CompressionStream("gzip")));
    const res = await post(new Uint8Array(await gz.arrayBuffer()), { "Content-Encoding": "gzip" });
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_id: string }>();
    expect(body).toEqual({ status: "accepted", event_id: expect.stringMatching(UUID_V7) });
    // The inflated event itself is what was queued, once.
    expect(sent().flatMap((m) => m.events)).toEqual([
      expect.objectContaining({ ...pageview, event_id: body.event_id, visitor_id_source: "client" }),
    ]);
  });

  it("refuses a gzip bomb with 413 after reading only the allowed size", async () => {
    const sent = watchQueue();
    const bomb = new Response(
      new Blob([new Uint8Array(50 * 1024 * 1024).fill(0x20)]).stream().pipeThrough(new CompressionStream("gzip")),
    );
    const bytes = new Uint8Array(await bomb.arrayBuffer());
    expect(bytes.byteLength).toBeLessThan(200_000);
    const res = await post(bytes, { "Content-Encoding": "gzip" });
    expect(res.status).toBe(413);
    expect(await envelope(res)).toEqual({
      error: { code: "payload_too_large", message: "body: exceeds 262144 bytes (after decompression)", status: 413 },
    });
    expect(sent()).toEqual([]);
  });

  it("accepts the valid events of a mixed batch and lists each rejected one", async () => {
    const sent = watchQueue();
    const res = await post([
      pageview,
      { ...pageview, page_url: "javascript:alert(1)" },
      { ...pageview, event_timestamp: Date.now() - 80 * 3600_000 },
    ]);
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_ids: (string | null)[]; errors: unknown[] }>();
    expect(body.status).toBe("partial");
    expect(body.event_ids).toEqual([expect.stringMatching(UUID_V7), null, null]);
    expect(body.errors).toEqual([
      { index: 1, code: "invalid_event", message: "events[1].page_url: must be an absolute http(s) URL" },
      { index: 2, code: "timestamp_out_of_range", message: expect.stringContaining("POST /api/v1/import") },
    ]);
    expect(sent().flatMap((m) => m.events.map((e) => e.event_id))).toEqual([body.event_ids[0]]);
  });

  it("returns 400 naming the event index and field when no event is valid, and queues nothing", async () => {
    const sent = watchQueue();
    const res = await post([{ ...pageview, page_url: "data:text/html,hi" }]);
    expect(res.status).toBe(400);
    expect(await envelope(res)).toEqual({
      error: { code: "invalid_event", message: "events[0].page_url: must be an absolute http(s) URL", status: 400 },
    });
    expect(sent()).toEqual([]);
  });

  it("names a missing required field", async () => {
    const { page_url: _, ...rest } = pageview;
    const res = await post(rest);
    expect((await envelope(res)).error.message).toBe("events[0].page_url: is required");
  });

  it("refuses more than 20 events", async () => {
    const res = await post(Array(21).fill(pageview));
    expect(res.status).toBe(400);
    expect((await envelope(res)).error).toMatchObject({
      code: "too_many_events",
      message: expect.stringContaining("at most 20"),
    });
  });

  it.each([
    ["invalid JSON", "{not json", 400, "invalid_json"],
    ["an empty body", "", 400, "invalid_body"],
    ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), 400, "invalid_body"],
    ["a JSON string", '"pageview"', 400, "invalid_body"],
    ["an empty array", "[]", 400, "invalid_body"],
    ["a body over 256 KB", JSON.stringify({ ...pageview, page_title: "x".repeat(300_000) }), 413, "payload_too_large"],
    ["one event over 32 KB", JSON.stringify({ ...pageview, page_title: "x".repeat(40_000) }), 413, "event_too_large"],
  ])("answers %s with %i and the envelope", async (_name, body, status, code) => {
    const sent = watchQueue();
    const res = await post(body);
    expect(res.status).toBe(status);
    expect((await envelope(res)).error).toMatchObject({ code, status });
    expect(sent()).toEqual([]);
  });

  it("refuses other media types with 415 naming the header", async () => {
    const res = await post(JSON.stringify(pageview), { "Content-Type": "multipart/form-data; boundary=x" });
    expect(res.status).toBe(415);
    expect((await envelope(res)).error.message).toContain("Content-Type: multipart/form-data");
  });

  it("answers unknown routes with a 404 envelope", async () => {
    const res = await call("/nope");
    expect(res.status).toBe(404);
    expect((await envelope(res)).error.code).toBe("not_found");
  });
});

describe("packing concurrent requests into shared messages (#14)", () => {
  const PACKED = "UA-PACK-1";
  const event = (n: number, extra: Record<string, unknown> = {}) => ({
    ...pageview,
    property_id: PACKED,
    client_id: `p${n}`,
    event_id: `pack-${crypto.randomUUID()}`,
    ...extra,
  });
  // An IP of this block's own, so its events do not spend the other tests' per-IP budget.
  const postPacked = (body: unknown) => post(body, { "CF-Connecting-IP": "198.51.100.14" });

  /** sendBatch held until `open()`, then sent for real: the request that flushes performs it. */
  function gatedQueue() {
    const queue = env.EVENTS_QUEUE;
    const real = queue.sendBatch.bind(queue);
    let open = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const send = vi.spyOn(queue, "sendBatch").mockImplementation(async (batch, options) => {
      await gate;
      return real(batch, options);
    });
    const messages = () => send.mock.calls.flatMap(([batch]) => [...batch].map((m) => sentMessage(m)));
    return { send, open, messages };
  }

  /** A response promise whose settling can be looked at without awaiting it. */
  function tracked(response: Promise<Response>) {
    let settled = false;
    void response.finally(() => {
      settled = true;
    });
    return { response, settled: () => settled };
  }

  beforeAll(async () => {
    await createProperty({ property_id: PACKED, domains: ["example.com"] });
  });
  afterEach(() => configurePacking(env.EVENTS_QUEUE));

  it("sends the events of concurrent requests in one shared message, each once, and answers none before it is queued", async () => {
    // A window far longer than the requests take to arrive, so all of them are in it.
    configurePacking(env.EVENTS_QUEUE, { windowMs: 300 });
    const queue = gatedQueue();
    const bodies = [[event(1)], [event(2), event(3)], [event(4)], [event(5), event(6), event(7)], [event(8)]];
    const requests = bodies.map((b) => tracked(postPacked(b)));
    await vi.waitFor(() => expect(queue.send).toHaveBeenCalled(), { timeout: 3_000, interval: 10 });
    // The send is held: no request has been answered.
    expect(requests.map((r) => r.settled())).toEqual(bodies.map(() => false));
    queue.open();
    const answers = await Promise.all(requests.map((r) => r.response));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 202));
    const ids = await Promise.all(answers.map((a) => a.json<{ event_ids: string[] }>()));
    expect(ids.map((i) => i.event_ids)).toEqual(bodies.map((b) => b.map((e) => e.event_id)));
    expect(queue.send).toHaveBeenCalledTimes(1);
    const [message, ...others] = queue.messages();
    expect(others).toEqual([]);
    expect(message?.events.map((e) => e.event_id).sort()).toEqual(
      bodies
        .flat()
        .map((e) => e.event_id)
        .sort(),
    );
  });

  it("sends a lone request once its window ends and answers it 202", async () => {
    const sent = watchQueue();
    const only = event(9);
    const res = await postPacked(only);
    expect(res.status).toBe(202);
    expect(sent().map((m) => m.events.map((e) => e.event_id))).toEqual([[only.event_id]]);
  });

  it("answers 503 to every request of a shared send that fails, and sends nothing else", async () => {
    configurePacking(env.EVENTS_QUEUE, { windowMs: 300 });
    const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch").mockRejectedValue(new Error("queue unavailable"));
    const answers = await Promise.all([1, 2, 3].map((n) => postPacked([event(n), event(n + 10)])));
    expect(answers.map((a) => a.status)).toEqual([503, 503, 503]);
    for (const a of answers) expect((await envelope(a)).error.code).toBe("queue_unavailable");
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("sends a full message at once when the next events would pass 64 KB; the rest leaves at the window's end", async () => {
    // A window far longer than the early send takes: a send seen within 1 s is not the window's end.
    configurePacking(env.EVENTS_QUEUE, { windowMs: 1_500 });
    // ~4 KB events: ten a request, so the second request's events pass 64 KB.
    const dims = Object.fromEntries(Array.from({ length: 6 }, (_, k) => [`pad${k}`, "x".repeat(500)]));
    const big = (n: number) => event(n, { page_title: "t".repeat(500), custom_dimensions: dims });
    const sent = watchQueue();
    const first = Array.from({ length: 10 }, (_, i) => big(i));
    const second = Array.from({ length: 10 }, (_, i) => big(i + 10));
    const requests = [tracked(postPacked(first)), tracked(postPacked(second))];
    await vi.waitFor(() => expect(sent()).toHaveLength(1), { timeout: 1_000, interval: 10 });
    expect(requests.map((r) => r.settled())).toEqual([false, false]); // the window is still open
    const [full] = sent();
    const bytes = new TextEncoder().encode(JSON.stringify(full)).byteLength;
    expect(bytes).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 100);
    expect(bytes).toBeGreaterThan(MAX_MESSAGE_BYTES - 5_000);
    const answers = await Promise.all(requests.map((r) => r.response));
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const messages = sent();
    expect(messages).toHaveLength(2);
    expect(messages.flatMap((m) => m.events.map((e) => e.event_id)).sort()).toEqual(
      [...first, ...second].map((e) => e.event_id).sort(),
    );
  });

  it("a request that joined a window whose send does not settle sends its own events after the bound, and is answered by that send", async () => {
    configurePacking(env.EVENTS_QUEUE, { windowMs: 100, fallbackMs: 200 });
    const queue = env.EVENTS_QUEUE;
    const real = queue.sendBatch.bind(queue);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The shared send is held; every later send goes through.
    const send = vi
      .spyOn(queue, "sendBatch")
      .mockImplementationOnce(async (batch, options) => {
        await held;
        return real(batch, options);
      })
      .mockImplementation((batch, options) => real(batch, options));
    const bodies = [event(21), event(22)];
    const requests = bodies.map((b) => tracked(postPacked(b)));
    // The joined request answers by its own send; the window's owner waits on the shared one, as an
    // unpacked request waits on its own.
    const answered = await Promise.race(requests.map((r, i) => r.response.then((res) => ({ res, i }))));
    expect(answered.res.status).toBe(202);
    expect(requests.map((r) => r.settled())).toEqual(bodies.map((_, i) => i === answered.i));
    const ids = send.mock.calls.map(([batch]) =>
      [...batch].flatMap((m) => sentMessage(m).events.map((e) => e.event_id)),
    );
    expect(ids[0]?.sort()).toEqual(bodies.map((b) => b.event_id).sort());
    expect(ids.slice(1)).toEqual([[bodies[answered.i]?.event_id]]);
    release();
    const owner = await requests[1 - answered.i]?.response;
    expect(owner?.status).toBe(202);
  });
});

describe("the live path in workerd", () => {
  it("an accepted event reaches ClickHouse, enriched, through the events queue and its consumer", async () => {
    const eventId = `live-${crypto.randomUUID()}`;
    const res = await post(
      {
        ...pageview,
        event_id: eventId,
        page_url: "https://example.com/pricing?utm_source=newsletter&utm_medium=email",
        referrer: "https://www.google.com/",
      },
      {
        "User-Agent":
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
        "CF-Connecting-IP": "203.0.113.77",
      },
    );
    expect(res.status).toBe(202);
    const clickhouse = createClient({
      url: env.CLICKHOUSE_URL,
      database: env.CLICKHOUSE_DATABASE,
      keep_alive: { enabled: false },
    });
    await vi.waitFor(
      async () => {
        const result = await clickhouse.query({
          query:
            "SELECT event_id, page_path, utm_source, channel, device_type, os, ip_prefix, is_bot FROM events WHERE event_id = {id:String}",
          query_params: { id: eventId },
          format: "JSONEachRow",
        });
        expect(await result.json()).toEqual([
          {
            event_id: eventId,
            page_path: "/pricing",
            utm_source: "newsletter",
            channel: "Email",
            device_type: "mobile",
            os: "iOS",
            ip_prefix: "203.0.113.0",
            is_bot: false,
          },
        ]);
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});
