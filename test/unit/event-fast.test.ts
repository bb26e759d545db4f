/** The fast path must never accept what EventInputSchema refuses, and must take the common event. */
import { describe, expect, it } from "vitest";
import { EventInputSchema } from "../../core/event.ts";
import { fastEventInput } from "../../core/ingest/event-fast.ts";

const base = {
  property_id: "UA-DEMO-1",
  client_id: "c1",
  event_type: "pageview",
  page_url: "https://example.com/a?utm_source=x",
  page_title: "Home",
  referrer: "https://www.google.com/",
  screen_resolution: "1920x1080",
  language: "en-US",
  custom_dimensions: { plan: "pro" },
  custom_metrics: { value: 3.5 },
  event_timestamp: 1_795_685_400,
};

let seed = 7;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const VALUES: unknown[] = [
  "",
  "x",
  "a".repeat(120),
  "a".repeat(121),
  "a".repeat(512),
  "a".repeat(513),
  "a".repeat(2049),
  "\u0000",
  "\ud800",
  "💥",
  "UA-1",
  "UA-12345-1",
  "https://e.com/",
  "http://",
  "ftp://e.com/",
  "javascript:alert(1)",
  "1920x1080",
  "99999x1",
  "en",
  "en_US",
  "x-klingon-too-long-tag",
  0,
  -1,
  1.5,
  1e12,
  4e12,
  1_795_685_400,
  "2026-11-26T09:30:00Z",
  "2026-02-31",
  "1795685400",
  true,
  null,
  [],
  {},
  { k: "v" },
  { "bad key": "v" },
  Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])),
  Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])),
  { m: Number.NaN },
];
const KEYS = [
  ...Object.keys(base),
  "user_id",
  "event_id",
  "user_agent",
  "viewport_size",
  "unknown",
  "__proto__",
  "constructor",
];

describe("fastEventInput", () => {
  it("takes the common valid event", () => {
    expect(fastEventInput({ ...base })).toEqual(base);
    const { client_id: _, ...anonymous } = base;
    expect(fastEventInput(anonymous)).toEqual(anonymous);
  });

  it("never accepts what zod refuses, and agrees with zod on what it accepts (20,000 mutations)", () => {
    let fastAccepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const candidate: Record<string, unknown> = JSON.parse(JSON.stringify(base));
      for (let m = 0, n = 1 + Math.floor(rand() * 3); m < n; m++) {
        const key = pick(KEYS);
        if (rand() < 0.15) delete candidate[key];
        else candidate[key] = pick(VALUES);
      }
      const raw = JSON.parse(JSON.stringify(candidate));
      const fast = fastEventInput(raw);
      if (fast === undefined) continue;
      fastAccepted++;
      const zod = EventInputSchema.safeParse(raw);
      expect(zod.success, `${JSON.stringify(raw).slice(150, 700)} ${JSON.stringify(zod.error?.issues)}`).toBe(true);
      expect(zod.data).toEqual(fast);
    }
    expect(fastAccepted).toBeGreaterThan(1_000);
  });
});
