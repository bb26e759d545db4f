/**
 * RegistryDO: the one directory of properties (a singleton). It makes property ids unique,
 * answers "which property owns this domain" for protocols that name a site by domain (Plausible)
 * and for CORS preflights, counts refusals for unknown properties, and keeps the daily salts of
 * cookieless visitor ids (deleted after 48 h, so yesterday's ids cannot be recomputed).
 */
import { DurableObject } from "cloudflare:workers";
import { addCounts, readCounts } from "./counters.ts";

export interface PropertySummary {
  property_id: string;
  name: string;
  domains: string[];
  created_at: number;
}

const SALT_DAYS_KEPT = 2;

export class RegistryDO extends DurableObject<Env> {
  /** Reserves an id; false when it is taken. */
  async register(summary: PropertySummary): Promise<boolean> {
    const key = `property:${summary.property_id}`;
    if (await this.ctx.storage.get(key)) return false;
    await this.ctx.storage.put(key, summary);
    await this.#index(summary.property_id, [], summary.domains);
    return true;
  }

  /** Keeps the domain index in step with a property's new domains and name. */
  async update(propertyId: string, name: string, domains: string[]): Promise<void> {
    const key = `property:${propertyId}`;
    const current = await this.ctx.storage.get<PropertySummary>(key);
    if (!current) return;
    await this.ctx.storage.put(key, { ...current, name, domains });
    await this.#index(propertyId, current.domains, domains);
  }

  async list(): Promise<PropertySummary[]> {
    const entries = await this.ctx.storage.list<PropertySummary>({ prefix: "property:" });
    return [...entries.values()];
  }

  /** Properties listing `host` or a parent domain of it, most specific first. */
  async propertiesForHost(host: string): Promise<string[]> {
    const labels = host.toLowerCase().split(".");
    const found: string[] = [];
    for (let i = 0; i < labels.length - 1 || (labels.length === 1 && i === 0); i++) {
      const ids = await this.ctx.storage.get<string[]>(`domain:${labels.slice(i).join(".")}`);
      if (ids) found.push(...ids.filter((id) => !found.includes(id)));
    }
    return found;
  }

  async recordRefusals(counts: Record<string, number>): Promise<void> {
    await addCounts(this.ctx.storage, "refusals", counts);
  }

  async refusals(): Promise<Record<string, number>> {
    return readCounts(this.ctx.storage, "refusals");
  }

  /** The salt of a UTC day (`2026-11-26`), created on first use; salts older than 48 h are deleted. */
  async salt(day: string): Promise<string> {
    const key = `salt:${day}`;
    const existing = await this.ctx.storage.get<string>(key);
    if (existing) return existing;
    const bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    const salt = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    await this.ctx.storage.put(key, salt);
    const all = await this.ctx.storage.list<string>({ prefix: "salt:" });
    const days = [...all.keys()].map((k) => k.slice(5)).sort();
    const expired = days.slice(0, Math.max(0, days.length - SALT_DAYS_KEPT)).filter((d) => d < day);
    if (expired.length > 0) await this.ctx.storage.delete(expired.map((d) => `salt:${d}`));
    return salt;
  }

  async #index(propertyId: string, before: readonly string[], after: readonly string[]): Promise<void> {
    for (const domain of before.filter((d) => !after.includes(d))) {
      const ids = ((await this.ctx.storage.get<string[]>(`domain:${domain}`)) ?? []).filter((id) => id !== propertyId);
      if (ids.length === 0) await this.ctx.storage.delete(`domain:${domain}`);
      else await this.ctx.storage.put(`domain:${domain}`, ids);
    }
    for (const domain of after.filter((d) => !before.includes(d))) {
      const ids = (await this.ctx.storage.get<string[]>(`domain:${domain}`)) ?? [];
      if (!ids.includes(propertyId)) await this.ctx.storage.put(`domain:${domain}`, [...ids, propertyId]);
    }
  }
}
