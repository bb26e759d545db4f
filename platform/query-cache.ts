/**
 * The query cache (issue #5): results keyed by property and normalised query, kept in Upstash
 * Redis when it is configured, else in the Workers Cache API (per data centre). A cache failure
 * never fails a query: a read that fails is a miss, a write that fails is dropped.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { sha256Hex } from "../core/hash.ts";
import { loadConfig } from "./config.ts";

/** A store for query results; `kind` is what the response reports as `meta.cached`. */
export interface QueryCache {
  readonly kind: "upstash" | "cache-api";
  /** The stored value, or undefined on a miss or when the store fails. */
  get<T>(key: string): Promise<T | undefined>;
  /** Keeps the value for ttlSeconds (nothing for ttl ≤ 0); a failure is logged once and dropped. */
  put(key: string, value: unknown, ttlSeconds: number): Promise<void>;
}

/** Bump when a cached result's shape changes, so an entry of the old shape is never read. */
const KEY_PREFIX = "tally:query:v1:";
const CACHE_API_ORIGIN = "https://query-cache.tally.internal";
/** How long a result for a range that has ended is kept (the issue: 5 minutes). */
export const CLOSED_RANGE_TTL_SECONDS = 300;
/** How long a result for a range that includes now is kept (the issue: at most 30 s). */
export const OPEN_RANGE_TTL_SECONDS = 30;
/**
 * A range ending later than this before now still counts as open: events reach ClickHouse a
 * second or so after they happen (queue batching), longer when a batch is retried.
 */
const OPEN_RANGE_MARGIN_MS = 60_000;
/** A cache that answers slowly is worse than none: one attempt, then a miss. */
const UPSTASH_TIMEOUT_MS = 1_000;

/**
 * `tally:query:v1:<property id>:<sha-256 of the canonical JSON of the normalised query>`. The
 * property id is in the key itself, so one property's entry can never answer another's, whatever
 * the query holds; the digest is fixed-length hex at the end, so the key parses one way only.
 */
export async function cacheKey(propertyId: string, normalisedQuery: unknown): Promise<string> {
  return `${KEY_PREFIX}${propertyId}:${await sha256Hex(canonicalJson(normalisedQuery))}`;
}

/** 300 s for a range that ended at least a minute ago, 30 s for one that includes now (or later). */
export function cacheTtlSeconds(rangeEndMs: number, nowMs: number): number {
  // Written so that NaN falls to the short TTL.
  return rangeEndMs <= nowMs - OPEN_RANGE_MARGIN_MS ? CLOSED_RANGE_TTL_SECONDS : OPEN_RANGE_TTL_SECONDS;
}

const stores = new WeakMap<object, QueryCache>();

/** Upstash when URL and token are both set, else `caches.default`; one store per configuration. */
export function queryCache(env: Env): QueryCache {
  const config = loadConfig(env);
  let store = stores.get(config);
  if (!store) {
    const { UPSTASH_REDIS_REST_URL: url, UPSTASH_REDIS_REST_TOKEN: token } = config;
    store = url && token ? upstashStore(url, token) : cacheApiStore();
    stores.set(config, store);
  }
  return store;
}

function upstashStore(url: string, token: string): QueryCache {
  const redis = new Redis({
    url,
    token,
    retry: false,
    signal: () => AbortSignal.timeout(UPSTASH_TIMEOUT_MS),
    // workerd rejects fetch's `keepalive` flag; connection reuse is the runtime's business.
    keepAlive: false,
    // We store JSON text and parse it here, so a value comes back exactly as it was put.
    automaticDeserialization: false,
    enableTelemetry: false,
  });
  return {
    kind: "upstash",
    async get<T>(key: string) {
      try {
        const text = await redis.get<string>(key);
        return text === null ? undefined : (JSON.parse(text) as T);
      } catch (error) {
        warnOnce("read", error);
        return undefined;
      }
    },
    async put(key, value, ttlSeconds) {
      const text = JSON.stringify(value);
      if (!(ttlSeconds > 0) || text === undefined) return;
      try {
        await redis.set(key, text, { ex: Math.ceil(ttlSeconds) });
      } catch (error) {
        warnOnce("write", error);
      }
    },
  };
}

function cacheApiStore(): QueryCache {
  return {
    kind: "cache-api",
    async get<T>(key: string) {
      try {
        const hit = await caches.default.match(cacheApiUrl(key));
        return hit ? ((await hit.json()) as T) : undefined;
      } catch (error) {
        warnOnce("read", error);
        return undefined;
      }
    },
    async put(key, value, ttlSeconds) {
      const text = JSON.stringify(value);
      if (!(ttlSeconds > 0) || text === undefined) return;
      try {
        const headers = { "Content-Type": "application/json", "Cache-Control": `max-age=${Math.ceil(ttlSeconds)}` };
        await caches.default.put(cacheApiUrl(key), new Response(text, { headers }));
      } catch (error) {
        warnOnce("write", error);
      }
    },
  };
}

/**
 * The key as a synthetic URL, each `:`-separated part one encoded path segment:
 * `https://query-cache.tally.internal/tally/query/v1/<property>/<sha>`. Encoded parts hold no `/`,
 * so two keys never share a URL.
 */
export function cacheApiUrl(key: string): string {
  return `${CACHE_API_ORIGIN}/${key.split(":").map(encodeURIComponent).join("/")}`;
}

/** JSON with every object's keys sorted, so two spellings of one query hash alike. */
function canonicalJson(value: unknown): string {
  const sorted = JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
  return sorted ?? "null";
}

let warned = false;
/** Once per isolate: a cache that is down would otherwise log on every query. */
function warnOnce(operation: "read" | "write", error: unknown): void {
  if (warned) return;
  warned = true;
  console.warn(`query cache ${operation} failed (queries go on uncached): ${String(error)}`);
}
