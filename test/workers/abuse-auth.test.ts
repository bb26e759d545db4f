/**
 * Credential guessing in workerd: failed authentications (API keys, the admin token, GA4 api_secrets)
 * are counted per address and, past AUTH_FAILURE_LIMITER (30 a minute), the address is answered 429
 * for every credentialed request; other addresses are unaffected; a credential without the shape of
 * one never reaches an actor. Each test speaks from its own address, so their counts do not mix.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ADMIN, type CreatedProperty, call, createProperty, envelope } from "./helpers.ts";

let site: CreatedProperty;
const realtime = (token: string, address?: string) =>
  call(`/api/v1/realtime?property=${site.property_id}`, {
    headers: { Authorization: `Bearer ${token}`, ...(address ? { "CF-Connecting-IP": address } : {}) },
  });

/** A key of the right shape that no property has issued. */
function guessedKey(): string {
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(43)), (b) => "abcdefghijklmnopqrstuvwxyz"[b % 26]);
  return `tk_${crypto.randomUUID().slice(0, 8)}_${secret.join("")}`;
}

async function statuses(n: number, send: (i: number) => Promise<Response>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await send(i)).status);
  return out;
}

/** Refused answers before the first 429: at most two of the limiter's 60 s windows (the test may straddle one). */
const AT_MOST_BEFORE_BLOCK = 60;

beforeAll(async () => {
  site = await createProperty({ property_id: "ABUSE-AUTH-1", domains: ["abuse-auth.example"] });
});
afterEach(() => vi.restoreAllMocks());

describe("guessing API keys", () => {
  it("answers 429 with Retry-After within 120 wrong keys from one address, then refuses even the right key", async () => {
    const seen = await statuses(120, () => realtime(guessedKey(), "198.51.100.7"));
    const first = seen.indexOf(429);
    expect(seen[0]).toBe(403);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(AT_MOST_BEFORE_BLOCK);
    expect(seen.slice(first).every((s) => s === 429)).toBe(true);

    const blocked = await realtime(site.api_key, "198.51.100.7");
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(blocked.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    expect((await envelope(blocked)).error).toMatchObject({ code: "rate_limited", status: 429 });
  });

  it("leaves other addresses alone: the right key works and a wrong one is still a plain 403", async () => {
    await statuses(40, () => realtime(guessedKey(), "198.51.100.8"));
    expect((await realtime(site.api_key, "198.51.100.9")).status).toBe(200);
    expect((await realtime(guessedKey(), "198.51.100.9")).status).toBe(403);
  });

  it("stops calling the PropertyDO for an address once it is blocked", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    const seen = await statuses(100, () => realtime(guessedKey(), "198.51.100.10"));
    const first = seen.indexOf(429);
    expect(first).toBeGreaterThan(0);
    // One verifyKey call per wrong key up to the one that crossed the limit, none after it.
    expect(lookups.mock.calls.length).toBe(first + 1);
  });

  it("refuses a token without the shape of a key with 401 and no call to any PropertyDO", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    for (const token of ["tk_", "tk_0123abcd_short", `tk_ZZZZZZZZ_${"a".repeat(43)}`, "sk_live_x", "a".repeat(300)]) {
      const res = await realtime(token, "198.51.100.11");
      expect(res.status).toBe(401);
      expect((await envelope(res)).error.message).toContain("tk_<8 hex>_<43 characters>");
    }
    expect(lookups).not.toHaveBeenCalled();
    // The spy does see a key of the right shape reach the actor.
    expect((await realtime(guessedKey(), "198.51.100.11")).status).toBe(403);
    expect(lookups).toHaveBeenCalledWith(site.property_id);
  });

  it("limits an IPv6 network as one address: keys guessed from all over one /64 reach 429", async () => {
    const host = () => Array.from({ length: 4 }, () => Math.floor(Math.random() * 0xffff).toString(16)).join(":");
    const seen = await statuses(120, () => realtime(guessedKey(), `2001:db8:77:1:${host()}`));
    expect(seen).toContain(429);
    expect((await realtime(site.api_key, "2001:db8:77:2::1")).status).toBe(200);
  });

  it("does not count a key valid for another property as a guess (once this isolate has seen it work)", async () => {
    const other = await createProperty({ property_id: "ABUSE-AUTH-2", domains: ["abuse-auth-2.example"] });
    const headers = { Authorization: `Bearer ${other.api_key}`, "CF-Connecting-IP": "198.51.100.12" };
    expect((await call("/api/v1/realtime?property=ABUSE-AUTH-2", { headers })).status).toBe(200);
    const seen = await statuses(45, () => realtime(other.api_key, "198.51.100.12"));
    expect(new Set(seen)).toEqual(new Set([403]));
  });

  it("does not limit requests without an address (tests, service bindings): no shared bucket", async () => {
    const seen = await statuses(45, () => realtime(guessedKey()));
    expect(new Set(seen)).toEqual(new Set([403]));
  });
});

describe("guessing the admin token", () => {
  it("answers 429 within 120 wrong tokens from one address, and the right token from another still works", async () => {
    const wrong = { Authorization: `Bearer ${"x".repeat(40)}`, "CF-Connecting-IP": "2001:db8::17" };
    const seen = await statuses(120, () => call("/api/v1/properties", { headers: wrong }));
    expect(seen[0]).toBe(401);
    expect(seen.indexOf(429)).toBeGreaterThan(0);
    expect(seen.indexOf(429)).toBeLessThanOrEqual(AT_MOST_BEFORE_BLOCK);
    const blocked = await call("/api/v1/properties", { headers: { ...ADMIN, "CF-Connecting-IP": "2001:db8::17" } });
    expect(blocked.status).toBe(429);
    const other = await call("/api/v1/properties", { headers: { ...ADMIN, "CF-Connecting-IP": "2001:db8:1::18" } });
    expect(other.status).toBe(200);
  });
});

describe("guessing a GA4 api_secret", () => {
  const payload = { client_id: "c1", events: [{ name: "page_view", params: {} }] };
  const mp = (secret: string, address: string) =>
    call(`/mp/collect?measurement_id=${site.property_id}&api_secret=${encodeURIComponent(secret)}`, {
      method: "POST",
      body: JSON.stringify(payload),
      headers: { "CF-Connecting-IP": address, "User-Agent": "guesser/1.0" },
    });
  const guessedSecret = () => crypto.randomUUID().replaceAll("-", "");

  it("answers 429 within 120 wrong secrets from one address, with PropertyDO calls only before the block", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    const seen = await statuses(120, () => mp(guessedSecret(), "203.0.113.5"));
    const first = seen.indexOf(429);
    expect(seen[0]).toBe(403);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(AT_MOST_BEFORE_BLOCK);
    expect(seen.slice(first).every((s) => s === 429)).toBe(true);
    // verifyMpSecret per wrong secret up to the one that crossed the limit (and a configuration read unless
    // an earlier test left it cached), nothing after.
    expect(lookups.mock.calls.length).toBeGreaterThanOrEqual(first + 1);
    expect(lookups.mock.calls.length).toBeLessThanOrEqual(first + 2);
    expect((await mp(site.mp_api_secret, "203.0.113.5")).status).toBe(429);
    expect((await mp(site.mp_api_secret, "203.0.113.6")).status).toBe(204);
  });

  it("refuses a secret without the shape of one with 403 and no call to the PropertyDO", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    for (const secret of ["nope", "x".repeat(33), "!".repeat(32)])
      expect((await mp(secret, "203.0.113.7")).status).toBe(403);
    expect(lookups).not.toHaveBeenCalled();
  });

  it("refuses a measurement_id that cannot be a property id with 400 naming it, before any lookup", async () => {
    const lookups = vi.spyOn(env.PROPERTY_DO, "getByName");
    const res = await call(`/mp/collect?measurement_id=${encodeURIComponent("../x y")}&api_secret=abc`, {
      method: "POST",
      body: "{}",
      headers: { "CF-Connecting-IP": "203.0.113.8" },
    });
    expect(res.status).toBe(400);
    expect((await envelope(res)).error.message).toContain("measurement_id");
    expect(lookups).not.toHaveBeenCalled();
  });
});

describe("guessing a WebSocket token", () => {
  const socket = (token: string, address: string) =>
    call(`/ws/realtime?property=${site.property_id}&token=${encodeURIComponent(token)}`, {
      headers: { Upgrade: "websocket", "CF-Connecting-IP": address },
    });

  it("answers 429 within 120 forged tokens from one address, then refuses even a valid key", async () => {
    const seen = await statuses(120, (i) => socket(`x.${Date.now() + 60_000}.forged${i}`, "192.0.2.50"));
    const first = seen.indexOf(429);
    expect(seen[0]).toBe(401);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(AT_MOST_BEFORE_BLOCK);
    expect((await realtime(site.api_key, "192.0.2.50")).status).toBe(429);
    expect((await realtime(site.api_key, "192.0.2.51")).status).toBe(200);
  });
});
