/**
 * Property configuration at the edge: read from the PropertyDO, cached per isolate for at most
 * 60 s (a hot property costs no DO call per request). Unknown ids are cached for 10 s so a flood
 * of made-up ids cannot turn into a flood of actor calls.
 */
import type { PropertyConfig } from "../core/property/property.ts";

const FOUND_TTL_MS = 60_000;
const MISSING_TTL_MS = 10_000;
const MAX_ENTRIES = 10_000;

const cache = new Map<string, { config: PropertyConfig | undefined; expires: number }>();

export function propertyStub(env: Env, propertyId: string) {
  return env.PROPERTY_DO.getByName(propertyId);
}

export function registryStub(env: Env) {
  return env.REGISTRY_DO.getByName("global");
}

/** A cache hit without a promise: `null` means "not cached, ask the actor". */
export function cachedPropertyConfig(propertyId: string, now = Date.now()): PropertyConfig | undefined | null {
  const hit = cache.get(propertyId);
  return hit && hit.expires > now ? hit.config : null;
}

/** The property's configuration (cached), or undefined when it does not exist. */
export async function propertyConfig(
  env: Env,
  propertyId: string,
  now = Date.now(),
): Promise<PropertyConfig | undefined> {
  const hit = cache.get(propertyId);
  if (hit && hit.expires > now) return hit.config;
  const config = await propertyStub(env, propertyId).config();
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(propertyId, { config, expires: now + (config ? FOUND_TTL_MS : MISSING_TTL_MS) });
  return config;
}

/** Forget a cached entry (after the admin API changed it in this isolate). */
export function forgetProperty(propertyId: string): void {
  cache.delete(propertyId);
}

const domainCache = new Map<string, { id: string | undefined; expires: number }>();

/** The property that lists `domain` (or a parent of it), for protocols that name sites by domain. */
export async function propertyForDomain(env: Env, domain: string, now = Date.now()): Promise<string | undefined> {
  const hit = domainCache.get(domain);
  if (hit && hit.expires > now) return hit.id;
  const [id] = await registryStub(env).propertiesForHost(domain);
  if (domainCache.size >= MAX_ENTRIES) domainCache.clear();
  domainCache.set(domain, { id, expires: now + (id ? FOUND_TTL_MS : MISSING_TTL_MS) });
  return id;
}
