import { describe, expect, it } from "vitest";
import type { Event } from "../../core/event.ts";
import {
  decodeEventsMessage,
  EventsMessageSchema,
  MAX_MESSAGE_BYTES,
  packMessages,
} from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";

const event = (n: number, padding = 0): Event =>
  makeEvent({
    client_id: `c${n}`,
    event_id: `e${n}`,
    custom_dimensions:
      padding > 0
        ? Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`pad${k}`, "é".repeat(padding)]))
        : undefined,
  });

describe("packMessages", () => {
  it("puts a typical batch into one message", () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i));
    const messages = packMessages(events, 1);
    expect(messages).toHaveLength(1);
    // The text sent is the message: what the consumers decode equals what was packed.
    const decoded = decodeEventsMessage(messages[0]);
    expect(decoded.success && decoded.data).toEqual(JSON.parse(JSON.stringify({ v: 1, received_at: 1, events })));
    expect(EventsMessageSchema.parse(JSON.parse(messages[0] ?? "")).events).toHaveLength(20);
  });

  it("splits large events into messages under the byte budget, keeping order and every event", () => {
    const events = Array.from({ length: 20 }, (_, i) => event(i, 500));
    const messages = packMessages(events, 1);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) {
      expect(new TextEncoder().encode(m).byteLength).toBeLessThanOrEqual(MAX_MESSAGE_BYTES + 200);
      expect(EventsMessageSchema.parse(JSON.parse(m)).received_at).toBe(1);
    }
    const sent = messages.flatMap((m) => EventsMessageSchema.parse(JSON.parse(m)).events);
    expect(sent.map((e) => e.event_id)).toEqual(events.map((e) => e.event_id));
    expect(sent).toEqual(JSON.parse(JSON.stringify(events)));
  });

  it("counts bytes exactly when 3 bytes a character would not fit: non-ASCII text that fits stays one message", () => {
    // 20 × 10 × 100 "é": 40 KB as written (2 bytes each), 60 KB at 3 bytes each: with the rest, under and over 64 KB.
    const events = Array.from({ length: 20 }, (_, i) => event(i, 100));
    const written = new TextEncoder().encode(JSON.stringify(events)).byteLength;
    expect(written).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(events.reduce((n, e) => n + 3 * JSON.stringify(e).length, 0)).toBeGreaterThan(MAX_MESSAGE_BYTES);
    expect(packMessages(events, 1)).toHaveLength(1);
  });
});

describe("decodeEventsMessage", () => {
  it("reads text and objects alike, and refuses broken text as it refuses a bad object", () => {
    const message = { v: 1, received_at: 5, events: [event(1)] };
    const fromText = decodeEventsMessage(JSON.stringify(message));
    expect(fromText.success && fromText.data).toEqual(message);
    const fromObject = decodeEventsMessage(message);
    expect(fromObject.success && fromObject.data).toEqual(message);
    expect(decodeEventsMessage('{"v":1,').success).toBe(false);
    expect(decodeEventsMessage({ v: 2 }).success).toBe(false);
  });
});
