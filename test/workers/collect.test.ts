import { env, exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { EventsMessageSchema } from "../../core/queue-message.ts";

const pageview = {
  property_id: "UA-DEMO-1",
  client_id: "c1",
  event_type: "pageview",
  page_url: "https://example.com/",
};

function post(body: unknown, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(
    new Request("http://tally.test/collect", {
      method: "POST",
      body: typeof body === "string" ? body : JSON.stringify(body),
      ...init,
    }),
  );
}

describe("POST /collect", () => {
  it("accepts one event with 202, assigns a UUIDv7 and queues it", async () => {
    const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    const res = await post(pageview);
    expect(res.status).toBe(202);
    const body = await res.json<{ status: string; event_id: string }>();
    expect(body.status).toBe("accepted");
    expect(body.event_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(send).toHaveBeenCalledTimes(1);
    const [messages] = send.mock.calls[0] ?? [];
    const message = EventsMessageSchema.parse(messages?.[0]?.body);
    expect(message.events).toHaveLength(1);
    expect(message.events[0]).toMatchObject({ ...pageview, event_id: body.event_id });
  });
});
