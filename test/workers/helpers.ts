/** Helpers for workerd tests: requests to the Worker, properties created through the admin API. */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import type { Event } from "../../core/event.ts";
import { type EventsMessage, EventsMessageSchema } from "../../core/ingest/queue-message.ts";
import worker from "../../workers/main.ts";
import { TEST_ADMIN_TOKEN } from "../support/admin.ts";

export const ADMIN = { Authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

export function call(path: string, init: RequestInit & { cf?: Record<string, unknown> } = {}): Promise<Response> {
  return exports.default.fetch(new Request(`http://tally.test${path}`, init));
}

export interface CreatedProperty {
  property_id: string;
  api_key: string;
  key_id: string;
  mp_api_secret: string;
  domains: string[];
}

/** Creates a property through the admin API (the only way one comes to exist). */
export async function createProperty(body: Record<string, unknown>): Promise<CreatedProperty> {
  const res = await call("/api/v1/properties", {
    method: "POST",
    headers: { ...ADMIN, "Content-Type": "application/json" },
    body: JSON.stringify({ name: "Test site", domains: ["example.com"], ...body }),
  });
  if (res.status !== 201) throw new Error(`property creation failed: ${res.status} ${await res.text()}`);
  return res.json<CreatedProperty>();
}

export async function envelope(res: Response) {
  return res.json<{ error: { code: string; message: string; status: number } }>();
}

/** Runs the real queue consumer on one message of events, as the events queue would deliver it. */
export async function consumeMessage(id: string, events: Event[], attempts = 1) {
  const body: EventsMessage = { v: 1, received_at: Date.now(), events };
  const batch = createMessageBatch("events", [{ id, timestamp: new Date(), attempts, body }]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** Runs the real queue consumer on one batch of several messages (ids given; attempts default to 1). */
export async function consumeMessages(messages: { id: string; events: Event[]; attempts?: number }[]) {
  const batch = createMessageBatch(
    "events",
    messages.map(({ id, events, attempts = 1 }) => {
      const body: EventsMessage = { v: 1, received_at: Date.now(), events };
      return { id, timestamp: new Date(), attempts, body };
    }),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

/** A message the edge sent, as the consumers read it: JSON text (the producer serialises once), validated. */
export function sentMessage(m: MessageSendRequest): EventsMessage {
  if (m.contentType !== "text" || typeof m.body !== "string")
    throw new Error(`queue message sent as ${m.contentType} ${typeof m.body}, not as JSON text`);
  return EventsMessageSchema.parse(JSON.parse(m.body));
}

/** Yesterday 10:00 UTC: traffic placed there is in whole-day reports and its visits are closed by now. */
export const YESTERDAY_10H = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 14 * 3_600_000;

/** The overview report's figures for one UTC day, read past the cache (fault tests compare two properties' figures). */
export async function overviewFigures(p: CreatedProperty, day: string): Promise<Record<string, unknown>> {
  const res = await call(
    `/api/v1/reports?property=${p.property_id}&report=overview&start=${day}&end=${day}&timezone=UTC`,
    { headers: { Authorization: `Bearer ${p.api_key}`, "Cache-Control": "no-cache" } },
  );
  if (res.status !== 200) throw new Error(`overview failed: ${res.status} ${await res.text()}`);
  const { meta: _meta, query: _query, ...figures } = await res.json<Record<string, unknown>>();
  return figures;
}
