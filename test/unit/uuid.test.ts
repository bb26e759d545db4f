import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../core/uuid.ts";

describe("uuidv7", () => {
  it("sets version 7 and the RFC 9562 variant", () => {
    expect(uuidv7()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("carries the millisecond timestamp in its first 48 bits, so ids sort by time", () => {
    const ms = Date.UTC(2026, 10, 26, 9, 30);
    const id = uuidv7(ms);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
    expect(uuidv7(ms) < uuidv7(ms + 1)).toBe(true);
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => uuidv7(0)));
    expect(ids.size).toBe(10_000);
  });
});
