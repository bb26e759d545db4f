/**
 * platform/query-cache.ts in workerd: keys that separate properties and ignore key order, the two
 * TTLs, the Cache API store (the default) and the Upstash store against dev/servers/upstash-server.ts over
 * the real Redis; a failing store is a miss, never an error.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  CLOSED_RANGE_TTL_SECONDS,
  cacheApiUrl,
  cacheKey,
  cacheTtlSeconds,
  OPEN_RANGE_TTL_SECONDS,
  queryCache,
} from "../../platform/query-cache.ts";

// Set in vitest.config.ts: the adapter global setup starts; kept out of `Env` (tests only).
const testEnv = env as typeof env & { TEST_UPSTASH_URL: string; TEST_UPSTASH_TOKEN: string };
const withUpstash = (url: string, token: string): Env =>
  Object.assign({}, env, { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token });

// Redis is shared with other runs: this run's properties are its own.
const run = crypto.randomUUID().slice(0, 8);
const propertyA = `UA-CACHE-${run}-A`;
const propertyB = `UA-CACHE-${run}-B`;
const query = {
  metrics: ["visitors", "pageviews"],
  dimensions: ["event:page"],
  date_range: ["2026-11-01T00:00:00.000Z", "2026-11-08T00:00:00.000Z"],
  include: { bots: false, total_rows: true },
};
const result = { results: [{ dimensions: ["/é"], metrics: [3, 7] }], meta: { total_rows: 1 } };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the query cache key", () => {
  it("names the property verbatim and a sha-256 of the query", async () => {
    expect(await cacheKey(propertyA, query)).toMatch(new RegExp(`^tally:query:v1:${propertyA}:[0-9a-f]{64}$`));
  });

  it("is the same for the same query with its keys in any order, at any depth", async () => {
    const reordered = {
      include: { total_rows: true, bots: false },
      date_range: query.date_range,
      dimensions: query.dimensions,
      metrics: query.metrics,
    };
    expect(await cacheKey(propertyA, reordered)).toBe(await cacheKey(propertyA, query));
  });

  it("differs between properties, and between queries that differ in any value or order of a list", async () => {
    const key = await cacheKey(propertyA, query);
    expect(await cacheKey(propertyB, query)).not.toBe(key);
    expect(await cacheKey(propertyA, { ...query, include: { bots: true, total_rows: true } })).not.toBe(key);
    expect(await cacheKey(propertyA, { ...query, metrics: ["pageviews", "visitors"] })).not.toBe(key);
  });
});

describe("the query cache TTL", () => {
  const now = Date.UTC(2026, 10, 26, 12, 0, 0);
  it.each([
    ["ended yesterday", now - 86_400_000, CLOSED_RANGE_TTL_SECONDS],
    ["ended a minute ago", now - 60_000, CLOSED_RANGE_TTL_SECONDS],
    ["ended 59 s ago (events may still be arriving)", now - 59_000, OPEN_RANGE_TTL_SECONDS],
    ["ends now", now, OPEN_RANGE_TTL_SECONDS],
    ["ends tomorrow", now + 86_400_000, OPEN_RANGE_TTL_SECONDS],
    ["has no valid end", Number.NaN, OPEN_RANGE_TTL_SECONDS],
  ])("is right for a range that %s", (_name, end, ttl) => {
    expect(cacheTtlSeconds(end, now)).toBe(ttl);
  });

  it("is 5 minutes for closed ranges and 30 s for ranges that include now", () => {
    expect([CLOSED_RANGE_TTL_SECONDS, OPEN_RANGE_TTL_SECONDS]).toEqual([300, 30]);
  });
});

describe("the query cache on the Cache API (no Upstash configured)", () => {
  const cache = queryCache(env);

  it("is the default store", () => {
    expect(cache.kind).toBe("cache-api");
  });

  it("returns what was put, and undefined for what was not", async () => {
    const key = await cacheKey(propertyA, { ...query, limit: 1 });
    expect(await cache.get(key)).toBeUndefined();
    await cache.put(key, result, 300);
    expect(await cache.get(key)).toEqual(result);
  });

  it("stores the entry under the property's own URL with max-age = the TTL", async () => {
    const key = await cacheKey(propertyA, { ...query, limit: 2 });
    await cache.put(key, result, 30);
    const url = cacheApiUrl(key);
    expect(url).toMatch(
      new RegExp(`^https://query-cache\\.tally\\.internal/tally/query/v1/${propertyA}/[0-9a-f]{64}$`),
    );
    const stored = await caches.default.match(url);
    expect(stored?.headers.get("Cache-Control")).toBe("max-age=30");
  });

  it("stores nothing for a TTL of 0", async () => {
    const key = await cacheKey(propertyA, { ...query, limit: 3 });
    await cache.put(key, result, 0);
    expect(await cache.get(key)).toBeUndefined();
  });

  it("never answers one property's query with another's entry", async () => {
    await cache.put(await cacheKey(propertyA, { ...query, limit: 4 }), result, 300);
    expect(await cache.get(await cacheKey(propertyB, { ...query, limit: 4 }))).toBeUndefined();
  });
});

describe("the query cache on Upstash (dev/servers/upstash-server.ts over the real Redis)", () => {
  const cache = () => queryCache(withUpstash(testEnv.TEST_UPSTASH_URL, testEnv.TEST_UPSTASH_TOKEN));

  /** One raw command to the adapter, to see what Redis holds. */
  async function redis(...command: (string | number)[]): Promise<unknown> {
    const res = await fetch(testEnv.TEST_UPSTASH_URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${testEnv.TEST_UPSTASH_TOKEN}` },
      body: JSON.stringify(command),
    });
    return ((await res.json()) as { result: unknown }).result;
  }

  beforeAll(async () => {
    const up = await fetch(testEnv.TEST_UPSTASH_URL, {
      method: "POST",
      headers: { Authorization: `Bearer ${testEnv.TEST_UPSTASH_TOKEN}` },
      body: '["PING"]',
    }).then(
      (r) => r.ok,
      () => false,
    );
    expect(up, "the Upstash adapter is not running: is Redis up on 127.0.0.1:6379? (.ci/run starts one)").toBe(true);
  });

  it("is chosen when URL and token are both set", () => {
    expect(cache().kind).toBe("upstash");
    expect(queryCache(withUpstash(testEnv.TEST_UPSTASH_URL, "")).kind).toBe("cache-api");
  });

  it("returns what was put, as it was put, and undefined for what was not", async () => {
    const key = await cacheKey(propertyA, { ...query, limit: 11 });
    expect(await cache().get(key)).toBeUndefined();
    await cache().put(key, result, 300);
    expect(await cache().get(key)).toEqual(result);
    expect(JSON.parse(String(await redis("GET", key)))).toEqual(result);
  });

  it("sets the Redis TTL", async () => {
    const open = await cacheKey(propertyA, { ...query, limit: 12 });
    const closed = await cacheKey(propertyA, { ...query, limit: 13 });
    await cache().put(open, result, OPEN_RANGE_TTL_SECONDS);
    await cache().put(closed, result, CLOSED_RANGE_TTL_SECONDS);
    const [openTtl, closedTtl] = [Number(await redis("TTL", open)), Number(await redis("TTL", closed))];
    expect(openTtl).toBeGreaterThan(25);
    expect(openTtl).toBeLessThanOrEqual(30);
    expect(closedTtl).toBeGreaterThan(295);
    expect(closedTtl).toBeLessThanOrEqual(300);
  });

  it("never answers one property's query with another's entry", async () => {
    await cache().put(await cacheKey(propertyA, { ...query, limit: 14 }), result, 300);
    expect(await cache().get(await cacheKey(propertyB, { ...query, limit: 14 }))).toBeUndefined();
  });

  it("treats a store that refuses it (wrong token) or answers garbage as a miss, never an error", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const key = await cacheKey(propertyA, { ...query, limit: 15 });
    await cache().put(key, result, 300);
    for (const broken of [
      queryCache(withUpstash(testEnv.TEST_UPSTASH_URL, "wrong-token")),
      // Not Upstash at all: ClickHouse answers the SDK's requests with text it cannot parse.
      queryCache(withUpstash(env.CLICKHOUSE_URL, testEnv.TEST_UPSTASH_TOKEN)),
    ]) {
      await expect(broken.put(key, result, 300)).resolves.toBeUndefined();
      await expect(broken.get(key)).resolves.toBeUndefined();
    }
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
  });
});
