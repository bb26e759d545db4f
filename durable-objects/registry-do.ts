/**
 * RegistryDO: the one directory of properties (a singleton). Each property's PropertyDO is the
 * truth about it; the registry is an index of them that every lifecycle step rewrites from that
 * truth, so a retried step repairs it. It answers "which property owns this domain" for protocols
 * that name a site by domain (Plausible) and for CORS preflights, keeps deleted properties' audit
 * records, counts refusals for unknown properties, and keeps the daily salts of cookieless visitor
 * ids (deleted by an alarm 48 h after their day starts, so older ids cannot be recomputed).
 */
import { DurableObject } from "cloudflare:workers";
import { addCounts, readCounts } from "./counters.ts";
import type { Tombstone } from "./property-lifecycle.ts";

export interface PropertySummary {
  property_id: string;
  name: string;
  domains: string[];
  created_at: number;
}

/**
 * A property as the registry indexes it: "creating" from the reservation until its PropertyDO is
 * known to hold it, then "active"; "deleted" entries keep who deleted it and when (the audit).
 */
export type RegistryEntry = PropertySummary &
  ({ status: "creating" | "active" } | ({ status: "deleted" } & Omit<Tombstone, keyof PropertySummary>));

/** Entries stored before statuses existed were written only for properties already created. */
type StoredEntry = PropertySummary & Partial<Omit<RegistryEntry, keyof PropertySummary>>;

/** A salt is used on its UTC day and kept through the next (late events), then deleted. */
export const SALT_LIFETIME_MS = 48 * 3_600_000;

/** When a day's salt (`2026-11-26`) must be gone. */
export function saltExpiry(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + SALT_LIFETIME_MS;
}

const entryKey = (propertyId: string) => `property:${propertyId}`;

function asEntry(stored: StoredEntry): RegistryEntry {
  return { ...stored, status: stored.status ?? "active" } as RegistryEntry;
}

export class RegistryDO extends DurableObject<Env> {
  /**
   * Reserves an id before its PropertyDO is created and indexes its domains; returns the entry now
   * stored, which is an earlier one unchanged when the id was already reserved, active or deleted.
   */
  async reserve(summary: PropertySummary): Promise<RegistryEntry> {
    return this.ctx.storage.transaction(async (txn) => {
      const current = await txn.get<StoredEntry>(entryKey(summary.property_id));
      if (current) return asEntry(current);
      const entry: RegistryEntry = { ...summary, status: "creating" };
      await this.#write(txn, entry, []);
      return entry;
    });
  }

  /**
   * Indexes a property its PropertyDO holds (after a create, a change, or a repair): name and
   * domains as given, status active. A deleted entry stays deleted (its PropertyDO is a tombstone).
   */
  async confirm(summary: PropertySummary): Promise<RegistryEntry> {
    return this.ctx.storage.transaction(async (txn) => {
      const current = await txn.get<StoredEntry>(entryKey(summary.property_id));
      if (current?.status === "deleted") return asEntry(current);
      const entry: RegistryEntry = { ...summary, status: "active" };
      await this.#write(txn, entry, current?.domains ?? []);
      return entry;
    });
  }

  /** Records a deletion (the audit record) and frees the property's domains; repeating it changes nothing. */
  async markDeleted(tombstone: Tombstone): Promise<RegistryEntry> {
    return this.ctx.storage.transaction(async (txn) => {
      const current = await txn.get<StoredEntry>(entryKey(tombstone.property_id));
      if (current?.status === "deleted") return asEntry(current);
      const entry: RegistryEntry = { ...tombstone, status: "deleted" };
      await this.#write(txn, entry, current?.domains ?? []);
      return entry;
    });
  }

  /** Drops a reservation whose PropertyDO was never created; true when there was one. */
  async dropReservation(propertyId: string): Promise<boolean> {
    return this.ctx.storage.transaction(async (txn) => {
      const current = await txn.get<StoredEntry>(entryKey(propertyId));
      if (current?.status !== "creating") return false;
      await this.#reindex(txn, propertyId, current.domains, []);
      await txn.delete(entryKey(propertyId));
      return true;
    });
  }

  /** The entry of one id, or undefined when the id was never reserved. */
  async entry(propertyId: string): Promise<RegistryEntry | undefined> {
    const stored = await this.ctx.storage.get<StoredEntry>(entryKey(propertyId));
    return stored && asEntry(stored);
  }

  /** Properties that exist or are being created (deleted ones are in `deleted()`). */
  async list(): Promise<RegistryEntry[]> {
    return (await this.#all()).filter((e) => e.status !== "deleted");
  }

  /** Deleted properties' audit records: what was deleted, by whom, when, and its erasure. */
  async deleted(): Promise<RegistryEntry[]> {
    return (await this.#all()).filter((e) => e.status === "deleted");
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

  /** The salt of a UTC day (`2026-11-26`), created on first use; the alarm deletes it 48 h after its day starts. */
  async salt(day: string): Promise<string> {
    const key = `salt:${day}`;
    const existing = await this.ctx.storage.get<string>(key);
    if (existing) return existing;
    const bytes = new Uint8Array(32);
    crypto.getRandomValues(bytes);
    const salt = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    await this.ctx.storage.put(key, salt);
    // The earliest expiry of all, so salts stored before the alarm existed are deleted on time too.
    const days = [...(await this.ctx.storage.list({ prefix: "salt:" })).keys()].map((k) => k.slice(5));
    const next = Math.min(...days.map(saltExpiry));
    const alarm = await this.ctx.storage.getAlarm();
    if (alarm === null || alarm > next) await this.ctx.storage.setAlarm(next);
    return salt;
  }

  /** Deletes expired salts, on schedule rather than when traffic next asks; re-arms while salts remain. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const days = [...(await this.ctx.storage.list<string>({ prefix: "salt:" })).keys()].map((k) => k.slice(5));
    const expired = days.filter((d) => saltExpiry(d) <= now);
    if (expired.length > 0) await this.ctx.storage.delete(expired.map((d) => `salt:${d}`));
    const next = Math.min(...days.filter((d) => saltExpiry(d) > now).map(saltExpiry));
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  async #all(): Promise<RegistryEntry[]> {
    const entries = await this.ctx.storage.list<StoredEntry>({ prefix: "property:" });
    return [...entries.values()].map(asEntry);
  }

  /** Stores an entry and moves its domains in the index from `before` (deleted entries list none). */
  async #write(txn: DurableObjectTransaction, entry: RegistryEntry, before: readonly string[]): Promise<void> {
    await txn.put(entryKey(entry.property_id), entry);
    await this.#reindex(txn, entry.property_id, before, entry.status === "deleted" ? [] : entry.domains);
  }

  async #reindex(
    txn: DurableObjectTransaction,
    propertyId: string,
    before: readonly string[],
    after: readonly string[],
  ): Promise<void> {
    for (const domain of before.filter((d) => !after.includes(d))) {
      const ids = ((await txn.get<string[]>(`domain:${domain}`)) ?? []).filter((id) => id !== propertyId);
      if (ids.length === 0) await txn.delete(`domain:${domain}`);
      else await txn.put(`domain:${domain}`, ids);
    }
    for (const domain of after) {
      const ids = (await txn.get<string[]>(`domain:${domain}`)) ?? [];
      if (!ids.includes(propertyId)) await txn.put(`domain:${domain}`, [...ids, propertyId]);
    }
  }
}
