/**
 * The query cache (issue #5): results keyed by property, normalised query and the property's data
 * version (issue #15), kept in Upstash Redis when it is configured, else in the Workers Cache API
 * (per data centre). A cache failure never fails a query: a read that fails is a miss, a write
 * that fails is dropped.
 *
 * Freshness: the PropertyDO advances a version each time a consumer batch reaches it, just before
 * the batch's ClickHouse insert, and the query route reads it in the call that charges the query.
 * A new batch is a new key, so a report never waits out a TTL to show it; an identical question
 * with no new data is the same key, a hit. Two versions, so busy sites keep their cache for the
 * past: `recent` moves with every batch and keys ranges that include now; `history` moves only
 * with batches holding late events (imports, retries, old timestamps) and keys ranges that ended.
 */
import { Redis } from "@upstash/redis/cloudflare";
import { sha256Hex } from "../core/hash.ts";
import { loadConfig } from "./config.ts";
import { errorFields, log } from "./log.ts";
import { countMetric } from "./ops-metrics.ts";

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
/**
 * The actor call → ClickHouse insert gap is well under this (bench/freshness.ts measures it): an
 * answer computed while its version is younger may lack that batch's rows, so it is kept only
 * UNSETTLED_TTL_SECONDS; once the version is this old, an answer is complete for it and kept for
 * its range's TTL.
 */
export const SETTLE_MS = 2_000;
/**
 * How long an answer computed while its version settles is kept: it absorbs a burst of identical
 * questions (many viewers of a busy site, whose version is always settling) and hides a batch's rows
 * for at most this long after they land.
 */
export const UNSETTLED_TTL_SECONDS = 1;
/**
 * An event this much older than the batch that brings it is late: it may fall in a range that
 * ended, so it advances the `history` version. LATE_EVENT_MS + SETTLE_MS stays well under
 * OPEN_RANGE_MARGIN_MS: an on-time batch still settling cannot touch a range keyed by `history`.
 */
export const LATE_EVENT_MS = 30_000;
/** A cache that answers slowly is worse than none: one attempt, then a miss. */
const UPSTASH_TIMEOUT_MS = 1_000;

/**
 * `tally:query:v1:<property id>:<sha-256 of the canonical JSON of the question>`, the question
 * being the normalised query with the data version it depends on. The property id is in the key
 * itself, so one property's entry can never answer another's, whatever the query holds; the digest
 * is fixed-length hex at the end, so the key parses one way only. (An entry's shape is unchanged by
 * the version, so the prefix is too: old keys simply stop being asked for.)
 */
export async function cacheKey(propertyId: string, question: unknown): Promise<string> {
  return `${KEY_PREFIX}${propertyId}:${await sha256Hex(canonicalJson(question))}`;
}

/** One of a property's data versions, with how long ago (ms, the actor's clock) it last moved. */
export interface VersionScope {
  version: string;
  age_ms: number;
}

/** What the PropertyDO tells the query route about the property's stored data. */
export interface DataVersion {
  /** Moves with every batch: keys ranges that include now. */
  recent: VersionScope;
  /** Moves with batches holding late events: keys ranges that ended (see LATE_EVENT_MS). */
  history: VersionScope;
}

/** The version a range's answer depends on: `history` for a range that has ended, else `recent`. */
export function scopeFor(data: DataVersion, rangeEndMs: number, nowMs: number): VersionScope {
  return isClosedRange(rangeEndMs, nowMs) ? data.history : data.recent;
}

/**
 * How long an answer may be kept: the range's TTL once the version it was computed at (`ageMs` old
 * when read) has settled, which still bounds what no version sees (a replay, an insert slower than
 * SETTLE_MS); before, UNSETTLED_TTL_SECONDS.
 */
export function entryTtlSeconds(rangeEndMs: number, nowMs: number, ageMs: number): number {
  const ttl = cacheTtlSeconds(rangeEndMs, nowMs);
  return ageMs >= SETTLE_MS ? ttl : Math.min(ttl, UNSETTLED_TTL_SECONDS);
}

// Written so that NaN is open.
const isClosedRange = (rangeEndMs: number, nowMs: number) => rangeEndMs <= nowMs - OPEN_RANGE_MARGIN_MS;

/** 300 s for a range that ended at least a minute ago, 30 s for one that includes now (or later). */
export function cacheTtlSeconds(rangeEndMs: number, nowMs: number): number {
  return isClosedRange(rangeEndMs, nowMs) ? CLOSED_RANGE_TTL_SECONDS : OPEN_RANGE_TTL_SECONDS;
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
        return looked(text === null ? undefined : (JSON.parse(text) as T));
      } catch (error) {
        warnOnce("read", error);
        return looked(undefined);
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
        return looked(hit ? ((await hit.json()) as T) : undefined);
      } catch (error) {
        warnOnce("read", error);
        return looked(undefined);
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

const HIT = { layer: "query", result: "hit" } as const;
const MISS = { layer: "query", result: "miss" } as const;

/** Counts a lookup (a failed read is a miss) and passes its value on. */
function looked<T>(value: T | undefined): T | undefined {
  countMetric("cache_lookups", value === undefined ? MISS : HIT);
  return value;
}

let warned = false;
/** Once per isolate: a cache that is down would otherwise log on every query. */
function warnOnce(operation: "read" | "write", error: unknown): void {
  if (warned) return;
  warned = true;
  log.warn("query cache failed; queries go on uncached", { operation, ...errorFields(error) });
}
