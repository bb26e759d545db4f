/**
 * Property configuration at the edge: read from the PropertyDO, cached per isolate for at most
 * 60 s (a hot property costs no DO call per request). Unknown ids and domains are cached for 10 s.
 * Lookups that a request without credentials causes pass a LookupGuard: they also consult a
 * negative cache shared by the location's isolates (the Cache API), and draw on the address's
 * lookup budget before any actor call, so made-up names cannot become a flood of actor calls.
 */
import type { PropertyConfig } from "../core/property/property.ts";
import { countMetric } from "./ops-metrics.ts";
import type { LookupGuard } from "./throttle.ts";

const FOUND_TTL_MS = 60_000;
const MISSING_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;
const MISSING_URL = "https://negative.tally.internal/";

const cache = new Map<string, { config: PropertyConfig | undefined; expires: number }>();
const domainCache = new Map<string, { id: string | undefined; expires: number }>();
/**
 * What this isolate just changed, so it ignores the shared negative cache there for its TTL: a
 * property's id, and (as a change's domains are not known here) every domain.
 */
const changedIds = new Map<string, number>();
let domainsChangedUntil = 0;

export function propertyStub(env: Env, propertyId: string) {
  return env.PROPERTY_DO.getByName(propertyId);
}

export function registryStub(env: Env) {
  return env.REGISTRY_DO.getByName("global");
}

const missingUrl = (kind: "property" | "domain", name: string) => `${MISSING_URL}${kind}/${encodeURIComponent(name)}`;

async function knownMissing(kind: "property" | "domain", name: string, now: number): Promise<boolean> {
  const changedUntil = kind === "domain" ? domainsChangedUntil : (changedIds.get(name) ?? 0);
  if (now < changedUntil) return false;
  return (await caches.default.match(missingUrl(kind, name)).catch(() => undefined)) !== undefined;
}

async function rememberMissing(kind: "property" | "domain", name: string): Promise<void> {
  const headers = { "Cache-Control": `max-age=${MISSING_TTL_MS / 1000}` };
  await caches.default.put(missingUrl(kind, name), new Response("", { headers })).catch(() => undefined);
}

const PROPERTY_HIT = { layer: "property", result: "hit" } as const;
const PROPERTY_MISS = { layer: "property", result: "miss" } as const;
const DOMAIN_HIT = { layer: "domain", result: "hit" } as const;
const DOMAIN_MISS = { layer: "domain", result: "miss" } as const;

/**
 * A cache hit without a promise: `null` means "not cached, ask the actor". Only hits are counted
 * here: a miss is counted by the propertyConfig call that follows it.
 */
export function cachedPropertyConfig(propertyId: string, now = Date.now()): PropertyConfig | undefined | null {
  const hit = cache.get(propertyId);
  if (!(hit && hit.expires > now)) return null;
  countMetric("cache_lookups", PROPERTY_HIT);
  return hit.config;
}

function remember(propertyId: string, config: PropertyConfig | undefined, now: number): PropertyConfig | undefined {
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(propertyId, { config, expires: now + (config ? FOUND_TTL_MS : MISSING_TTL_MS) });
  return config;
}

/** The property's configuration (cached), or undefined when it does not exist. */
export async function propertyConfig(
  env: Env,
  propertyId: string,
  guard?: LookupGuard,
  now = Date.now(),
): Promise<PropertyConfig | undefined> {
  const hit = cache.get(propertyId);
  countMetric("cache_lookups", hit && hit.expires > now ? PROPERTY_HIT : PROPERTY_MISS);
  if (hit && hit.expires > now) return hit.config;
  if (guard) {
    if (await knownMissing("property", propertyId, now)) return remember(propertyId, undefined, now);
    await guard();
  }
  const config = await propertyStub(env, propertyId).config();
  if (!config && guard) await rememberMissing("property", propertyId);
  return remember(propertyId, config, now);
}

/** Forget a cached entry (after the admin API changed it in this isolate), and every domain answer. */
export function forgetProperty(propertyId: string, now = Date.now()): void {
  cache.delete(propertyId);
  domainCache.clear();
  if (changedIds.size >= MAX_ENTRIES) changedIds.clear();
  changedIds.set(propertyId, now + MISSING_TTL_MS);
  domainsChangedUntil = now + MISSING_TTL_MS;
}

function rememberDomain(domain: string, id: string | undefined, now: number): string | undefined {
  if (domainCache.size >= MAX_ENTRIES) domainCache.clear();
  domainCache.set(domain, { id, expires: now + (id ? FOUND_TTL_MS : MISSING_TTL_MS) });
  return id;
}

/** The property that lists `domain` (or a parent of it), for protocols that name sites by domain. */
export async function propertyForDomain(
  env: Env,
  domain: string,
  guard?: LookupGuard,
  now = Date.now(),
): Promise<string | undefined> {
  const hit = domainCache.get(domain);
  countMetric("cache_lookups", hit && hit.expires > now ? DOMAIN_HIT : DOMAIN_MISS);
  if (hit && hit.expires > now) return hit.id;
  if (guard) {
    if (await knownMissing("domain", domain, now)) return rememberDomain(domain, undefined, now);
    await guard();
  }
  const [id] = await registryStub(env).propertiesForHost(domain);
  if (!id && guard) await rememberMissing("domain", domain);
  return rememberDomain(domain, id, now);
}
