/** POST /collect in workerd: validation, the envelope, and the queue messages it produces. */
import { env, exports } from "cloudflare:workers";
import { createClient } from "@clickhouse/client-web";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type EventsMessage, EventsMessageSchema } from "../../core/queue-message.ts";

const pageview = {
  property_id: "UA-DEMO-1",
  client_id: "c1",
  event_type: "pageview",
  page_url: "https://example.com/",
};
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function post(body: BodyInit | unknown, headers: Record<string, string> = {}): Promise<Response> {
  const raw = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  return exports.default.fetch(new Request("http://tally.test/collect", { method: "POST", body: raw, headers }));
}

function watchQueue() {
  const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
  return () => send.mock.calls.flatMap(([batch]) => [...batch].map((m) => EventsMessageSchema.parse(m.body)));
}

async function envelope(res: Response) {
  return res.json<{ error: { code: string; message: string; status: number } }>();
}

afterEach(() => vi.restoreAllMocks());

describe("POST /collect", () => {
  it("accepts one event with 202, assigns a UUIDv7 and queues it", async () => {
    const sent = watchQueue();
    const res = await post(pageview);
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_id: string }>();
    expect(body).toEqual({ status: "accepted", event_id: expect.stringMatching(UUID_V7) });
    const [message] = sent();
    expect(message?.events).toEqual([{ ...pageview, event_id: body.event_id, event_timestamp: expect.any(Number) }]);
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
    const events = [
      { ...pageview, event_timestamp: 1_795_685_400 },
      { ...pageview, event_timestamp: 1_795_685_400_000 },
      { ...pageview, event_timestamp: "2026-11-26T09:30:00Z" },
    ];
    const res = await post(JSON.stringify(events), { "Content-Type": "text/plain;charset=UTF-8" });
    expect(res.status).toBe(202);
    expect(sent()[0]?.events.map((e) => e.event_timestamp)).toEqual(Array(3).fill(Date.UTC(2026, 10, 26, 9, 30)));
  });

  it("returns 400 naming the event index and field, and queues nothing", async () => {
    const sent = watchQueue();
    const res = await post([pageview, { ...pageview, page_url: "javascript:alert(1)" }]);
    expect(res.status).toBe(400);
    expect(await envelope(res)).toEqual({
      error: { code: "invalid_event", message: "events[1].page_url: must be an absolute http(s) URL", status: 400 },
    });
    expect(sent()).toEqual([]);
  });

  it("names a missing required field", async () => {
    const { client_id: _, ...rest } = pageview;
    const res = await post(rest);
    expect((await envelope(res)).error.message).toBe("events[0].client_id: is required");
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
  ])("answers %s with %i and the envelope", async (_name, body, status, code) => {
    const res = await post(body);
    expect(res.status).toBe(status);
    expect((await envelope(res)).error).toMatchObject({ code, status });
  });

  it("answers unknown routes with a 404 envelope", async () => {
    const res = await exports.default.fetch(new Request("http://tally.test/nope"));
    expect(res.status).toBe(404);
    expect((await envelope(res)).error.code).toBe("not_found");
  });
});

describe("the live path in workerd", () => {
  it("an accepted event reaches ClickHouse through the events queue and its consumer", async () => {
    const eventId = `live-${crypto.randomUUID()}`;
    const res = await post({ ...pageview, event_id: eventId });
    expect(res.status).toBe(202);
    const clickhouse = createClient({
      url: env.CLICKHOUSE_URL,
      database: env.CLICKHOUSE_DATABASE,
      keep_alive: { enabled: false },
    });
    await vi.waitFor(
      async () => {
        const result = await clickhouse.query({
          query: "SELECT event_id, page_url FROM events WHERE event_id = {id:String}",
          query_params: { id: eventId },
          format: "JSONEachRow",
        });
        expect(await result.json()).toEqual([{ event_id: eventId, page_url: pageview.page_url }]);
      },
      { timeout: 15_000, interval: 250 },
    );
  });
});
