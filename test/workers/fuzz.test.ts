/**
 * Thousands of generated hostile bodies against every ingestion endpoint: whatever arrives, the
 * answer is a 2xx or a 4xx envelope — never a 5xx, never a crash — and a refused /collect request
 * queues nothing (no partial writes). Seeded, so a failure replays.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../workers/main.ts";
import { type CreatedProperty, call, createProperty } from "./helpers.ts";

let seed = 0x7a11;
function rand(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

const NASTY_STRINGS = [
  "",
  " ",
  "\u0000",
  "\u202e",
  "💥",
  "\ud800",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "{name:String}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style string, sent as data on purpose
  "${jndi:ldap://x}",
  "javascript:alert(1)",
  "data:text/html,x",
  "http://",
  "https://",
  "//example.com",
  "https://exa mple.com",
  "x".repeat(5000),
  "9".repeat(400),
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "2026-02-31T00:00:00Z",
  "0000-00-00",
  "__proto__",
  "constructor",
];
const NASTY_NUMBERS = [0, -1, 1e308, -1e308, 1.5, 2 ** 53, -(2 ** 53), 1795685400, 1795685400000, 4e12];

function value(depth = 0): unknown {
  const r = rand();
  if (depth > 3 || r < 0.3) return pick(NASTY_STRINGS);
  if (r < 0.5) return pick(NASTY_NUMBERS);
  if (r < 0.6) return pick([true, false, null]);
  if (r < 0.8) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
  return Object.fromEntries(
    Array.from({ length: Math.floor(rand() * 4) }, () => [pick(NASTY_STRINGS).slice(0, 20), value(depth + 1)]),
  );
}

const FIELDS = [
  "property_id",
  "client_id",
  "event_type",
  "page_url",
  "event_id",
  "event_timestamp",
  "referrer",
  "user_agent",
  "screen_resolution",
  "language",
  "custom_dimensions",
  "custom_metrics",
  "page_title",
  "unknown_field",
  "__proto__",
];

function hostileEvent(): unknown {
  const e: Record<string, unknown> = {
    property_id: "UA-FUZZ-1",
    client_id: "c",
    event_type: "pageview",
    page_url: "https://example.com/",
  };
  for (let i = 0, n = 1 + Math.floor(rand() * 3); i < n; i++) {
    const field = pick(FIELDS);
    if (rand() < 0.2) delete e[field];
    else e[field] = value();
  }
  return e;
}

function hostileBody(): BodyInit {
  const r = rand();
  if (r < 0.5)
    return JSON.stringify(
      rand() < 0.5 ? hostileEvent() : Array.from({ length: Math.floor(rand() * 25) }, hostileEvent),
    );
  if (r < 0.6) return JSON.stringify(value());
  if (r < 0.7) return `${"[".repeat(1 + Math.floor(rand() * 50_000))}1`;
  if (r < 0.8) return Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256));
  if (r < 0.9) return JSON.stringify(hostileEvent()).slice(0, Math.floor(rand() * 60));
  return `{"property_id":"UA-FUZZ-1","page_url":"https://example.com/","event_type":"x","client_id":"${"\\ud83d".repeat(3)}\\u0000"}`;
}

let ga: CreatedProperty;
beforeAll(async () => {
  await createProperty({ property_id: "UA-FUZZ-1", domains: ["example.com"] });
  ga = await createProperty({ property_id: "G-FUZZ1", domains: ["example.com"] });
});
afterEach(() => vi.restoreAllMocks());

async function expectSane(res: Response, label: string) {
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400) {
    const body = await res.json<{ error?: { code?: string; message?: string; status?: number } }>();
    expect(body.error?.status, label).toBe(res.status);
    expect(body.error?.message, label).toBeTruthy();
  } else await res.arrayBuffer();
}

describe("fuzzing the ingestion edge", () => {
  it("answers 2,000 hostile /collect bodies with 2xx or a 4xx envelope, queueing nothing for refused ones", async () => {
    const send = vi.spyOn(env.EVENTS_QUEUE, "sendBatch");
    for (let i = 0; i < 2_000; i++) {
      const body = hostileBody();
      const before = send.mock.calls.length;
      const headers: Record<string, string> = rand() < 0.1 ? { "Content-Encoding": "gzip" } : {};
      const res = await call("/collect", { method: "POST", body, headers });
      const label = `#${i} ${String(typeof body === "string" ? body.slice(0, 120) : "bytes")}`;
      await expectSane(res, label);
      if (res.status >= 400) expect(send.mock.calls.length, label).toBe(before);
    }
    // Whatever the edge accepted, ClickHouse must accept too: an accepted event that the store
    // refuses would be lost (the fuzzer found lone surrogates doing exactly that).
    const messages = send.mock.calls.flatMap(([batch]) =>
      [...batch].map((m, i) => ({
        id: `fuzz-${crypto.randomUUID()}-${i}`,
        timestamp: new Date(),
        attempts: 1,
        body: m.body,
      })),
    );
    expect(messages.length).toBeGreaterThan(0);
    const batch = createMessageBatch("events", messages);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(messages.length);
    // Thousands of requests: minutes on a loaded machine are slow, not wrong.
  }, 120_000);

  it("answers hostile bodies to Plausible, GA4, Umami and import the same way", async () => {
    const targets = [
      "/api/event",
      `/mp/collect?measurement_id=G-FUZZ1&api_secret=${ga.mp_api_secret}`,
      "/api/send",
      "/api/v1/import?property=UA-FUZZ-1",
    ];
    for (let i = 0; i < 800; i++) {
      const target = targets[i % targets.length] ?? "/collect";
      const r = rand();
      const body =
        r < 0.4
          ? hostileBody()
          : JSON.stringify(
              target === "/api/send"
                ? { type: pick(["event", "identify", "x"]), payload: value() }
                : r < 0.7
                  ? { n: value(), u: value(), d: value(), p: value(), $: value() }
                  : { client_id: value(), events: value() },
            );
      const res = await call(target, {
        method: "POST",
        body,
        headers: { "User-Agent": "Mozilla/5.0", Authorization: `Bearer ${ga.api_key}` },
      });
      await expectSane(res, `#${i} ${target}`);
    }
  }, 120_000);
});
