/**
 * Compressed queue messages (platform/queue-codec.ts): a packed message leaves as ZSTD bytes the
 * consumer reads back exactly; one that compresses badly is halved until each part fits the limit,
 * every event kept once; a body that does not decompress is refused, not thrown.
 */
import { describe, expect, it } from "vitest";
import { decodeEventsMessage, packMessages } from "../../core/ingest/queue-message.ts";
import { makeEvent } from "../../dev/fixtures/events.ts";
import { compressedBodies, messageBody, sendGroups } from "../../platform/queue-codec.ts";

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

  it("leave in sendBatch calls of at most 240 KB and 100 messages, in order", () => {
    const body = (n: number) => new Uint8Array(n);
    const groups = sendGroups([body(65_000), body(64_000), body(64_000), body(64_000), body(10)]);
    expect(groups.map((g) => g.map((b) => b.byteLength))).toEqual([
      [65_000, 64_000, 64_000],
      [64_000, 10],
    ]);
    expect(sendGroups(Array.from({ length: 250 }, () => body(10))).map((g) => g.length)).toEqual([100, 100, 50]);
  });

  it("refuse a body that does not decompress", () => {
    expect(decodeEventsMessage(messageBody(new Uint8Array([1, 2, 3, 4]))).success).toBe(false);
  });
});
