/**
 * What travels on the `events` queue: a packet of accepted events from one request. Packing many
 * events per message is what keeps Queues affordable (a message is billed per 64 KB).
 */
import { z } from "zod";
import { type Event, EventSchema } from "./event.ts";

/** Target size of one message; Cloudflare's hard limit is 128 KB. */
export const MAX_MESSAGE_BYTES = 64_000;

export const EventsMessageSchema = z.strictObject({
  v: z.literal(1),
  /** When the edge accepted the events, epoch ms. */
  received_at: z.number().int(),
  events: z.array(EventSchema).min(1),
});
export type EventsMessage = z.infer<typeof EventsMessageSchema>;

const encoder = new TextEncoder();

/** Splits accepted events into messages of at most `maxBytes` of JSON each. */
export function packMessages(
  events: readonly Event[],
  receivedAt: number,
  maxBytes = MAX_MESSAGE_BYTES,
): EventsMessage[] {
  const whole = JSON.stringify(events);
  // A UTF-16 unit is at most 3 UTF-8 bytes, so the common small batch needs no byte count.
  if (whole.length * 3 <= maxBytes) return [{ v: 1, received_at: receivedAt, events: [...events] }];
  const messages: EventsMessage[] = [];
  let current: Event[] = [];
  let size = 0;
  for (const event of events) {
    const bytes = encoder.encode(JSON.stringify(event)).byteLength + 1;
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
