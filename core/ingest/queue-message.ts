/**
 * What travels on the `events` queue: a packet of accepted events, from one request or from several
 * concurrent ones (core/ingest/packer.ts). Packing many events per message is what keeps Queues
 * affordable (a message is billed per 64 KB).
 */
import { z } from "zod";
import { type Event, EventSchema } from "../event.ts";

/** Target size of one message; Cloudflare's hard limit is 128 KB. */
export const MAX_MESSAGE_BYTES = 64_000;

/**
 * Event JSON per compressed message (the ingest stage's, platform/events-queue.ts). ZSTD shrinks
 * enriched event JSON 6× (1 event a request) to 23× (20) on bench:cost traffic, so 512 KB of JSON
 * leaves as one or two billed 64 KB operations; a message that compresses worse is halved until
 * each part fits the queue's 128 KB limit (platform/queue-codec.ts compressedBodies).
 */
export const MAX_PACKED_BYTES = 512_000;

export const EventsMessageSchema = z.strictObject({
  v: z.literal(1),
  /** When the edge accepted the events, epoch ms: the earliest request's when several share the message (they arrived within the packing window). */
  received_at: z.number().int(),
  events: z.array(EventSchema).min(1),
});
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

const encoder = new TextEncoder();
const ASCII = /^[^\u0080-\uffff]*$/;

/** UTF-8 length of a string: its length when ASCII (JSON of most events is), else counted by encoding. */
export const utf8Length = (s: string) => (ASCII.test(s) ? s.length : encoder.encode(s).byteLength);

/** An `EventsMessage`'s JSON text around the JSON array of its events (already serialised). */
export const envelope = (receivedAt: number, eventsJson: string) =>
  `{"v":1,"received_at":${receivedAt},"events":${eventsJson}}`;

/**
 * Splits accepted events into messages of at most `maxBytes` of JSON each and returns each
 * message's JSON text (an `EventsMessage`), serialised here once: the queues get the text (a `json`
 * message would be serialised again by the runtime, once per queue). A request's events nearly
 * always fit in one message, which one serialisation shows; only when they do not is each event
 * serialised and measured.
 */
export function packMessages(events: readonly Event[], receivedAt: number, maxBytes = MAX_MESSAGE_BYTES): string[] {
  const whole = JSON.stringify(events);
  // A UTF-16 unit is at most 3 UTF-8 bytes: a small batch needs no count at all.
  if (whole.length * 3 <= maxBytes || utf8Length(whole) <= maxBytes) return [envelope(receivedAt, whole)];
  const messages: string[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const event of events) {
    const json = JSON.stringify(event);
    const bytes = utf8Length(json) + 1;
    if (parts.length > 0 && size + bytes > maxBytes) {
      messages.push(envelope(receivedAt, `[${parts.join(",")}]`));
      parts = [];
      size = 0;
    }
    parts.push(json);
    size += bytes;
  }
  if (parts.length > 0) messages.push(envelope(receivedAt, `[${parts.join(",")}]`));
  return messages;
}

/** A queue message's body as the consumers read it: text from the producer, or an object (older messages, tests). */
export function decodeEventsMessage(body: unknown): ReturnType<typeof EventsMessageSchema.safeParse> {
  if (typeof body !== "string") return EventsMessageSchema.safeParse(body);
  try {
    return EventsMessageSchema.safeParse(JSON.parse(body));
  } catch {
    return EventsMessageSchema.safeParse(undefined);
  }
}
