/**
 * What travels on the `events` queue: a packet of accepted events from one request. Packing many
 * events per message is what keeps Queues affordable (a message is billed per 64 KB).
 */
import { z } from "zod";
import { type Event, EventSchema } from "./event.ts";
import { jsonSizeBound } from "./json-size.ts";

/** Target size of one message; Cloudflare's hard limit is 128 KB. */
export const MAX_MESSAGE_BYTES = 64_000;

export const EventsMessageSchema = z.strictObject({
  v: z.literal(1),
  /** When the edge accepted the events, epoch ms. */
  received_at: z.number().int(),
  events: z.array(EventSchema).min(1),
});
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

/** Exact UTF-8 length of a string, without encoding it. */
function utf8Length(s: string): number {
  let bytes = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // 0x80–0x7ff: 2 bytes; the rest of the BMP 3; a surrogate pair (two units) 4; a lone surrogate is written escaped.
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/**
 * Splits accepted events into messages of at most `maxBytes` of JSON each. A request's events
 * nearly always fit in one: a size bound (core/json-size.ts) says so without serialising them;
 * only when it does not are the events serialised, once each, to be measured.
 */
export function packMessages(
  events: readonly Event[],
  receivedAt: number,
  maxBytes = MAX_MESSAGE_BYTES,
): EventsMessage[] {
  let bound = 2 + events.length;
  for (const event of events) bound += jsonSizeBound(event);
  if (bound <= maxBytes) return [{ v: 1, received_at: receivedAt, events: [...events] }];
  const messages: EventsMessage[] = [];
  let current: Event[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = utf8Length(JSON.stringify(event)) + 1;
    if (current.length > 0 && size + bytes > maxBytes) {
      messages.push({ v: 1, received_at: receivedAt, events: current });
      current = [];
      size = 0;
    }
    current.push(event);
    size += bytes;
  }
  if (current.length > 0) messages.push({ v: 1, received_at: receivedAt, events: current });
  return messages;
}
