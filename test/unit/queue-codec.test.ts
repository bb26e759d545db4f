/**
 * Compressed queue messages (platform/queue-codec.ts): a packed message leaves as ZSTD bytes the
 * consumer reads back exactly; one that compresses badly is halved until each part fits the limit,
 * every event kept once; a body that does not decompress is refused, not thrown.
 */
import { describe, expect, it } from "vitest";
import { decodeEventsMessage, packMessages } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { compressedBodies, messageBody } from "../../platform/queue-codec.ts";

const random = (n: number) => Array.from({ length: n }, () => Math.random().toString(36).slice(2)).join("");

describe("compressed queue messages", () => {
  it("round-trip a packed message exactly, many times smaller", () => {
    const events = Array.from({ length: 200 }, (_, i) => makeEvent({ event_id: `e${i}` }));
    const [text = ""] = packMessages(events, 1_700_000_000_000, 512_000);
    const bodies = compressedBodies(text);
    expect(bodies).toHaveLength(1);
    expect((bodies[0]?.byteLength ?? 0) * 5).toBeLessThan(text.length);
    expect(messageBody(bodies[0])).toBe(text);
  });

  it("halve a message that compresses badly until each part fits, keeping every event once", () => {
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent({ event_id: `r${i}`, custom_dimensions: { noise: random(40) } }),
    );
    const [text = ""] = packMessages(events, 1_700_000_000_000, 512_000);
    const bodies = compressedBodies(text, 8_000);
    expect(bodies.length).toBeGreaterThan(1);
    expect(bodies.every((b) => b.byteLength <= 8_000)).toBe(true);
    const back = bodies.flatMap((b) => {
      const parsed = decodeEventsMessage(messageBody(b));
      return parsed.success ? parsed.data.events.map((e) => e.event_id) : [];
    });
    expect(back).toEqual(events.map((e) => e.event_id));
  });

  it("refuse a body that does not decompress", () => {
    expect(decodeEventsMessage(messageBody(new Uint8Array([1, 2, 3, 4]))).success).toBe(false);
  });
});
