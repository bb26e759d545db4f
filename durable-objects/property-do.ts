/**
 * PropertyDO: the per-property actor and its one typed-RPC surface (nothing here speaks HTTP but
 * the WebSocket upgrade). It holds the configuration under "config" and delegates the rest, one
 * module per responsibility: creation and deletion (property-lifecycle.ts), API keys and the MP
 * secret (property-keys.ts), goals
 * (property-goals.ts), saved funnels (property-funnels.ts), the hourly query quota and the data
 * versions that key the query cache (property-quota.ts), refusal counters (counters.ts),
 * the last hour of minute windows (live-windows.ts), the dashboards' WebSockets and pushes
 * (live-sockets.ts, live-push.ts), and traffic alerts on those windows (property-alerts.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { Alert, AlertRules, AlertRulesPatch } from "../core/ops/alerts.ts";
import type { SavedFunnel } from "../core/property/funnels.ts";
import type { Goal } from "../core/property/goals.ts";
import { applyPatch, dataStart, type PatchProperty, type PropertyConfig } from "../core/property/property.ts";
import type { RealtimeSnapshot } from "../core/session/realtime.ts";
import type { SessionChange } from "../core/session/session.ts";
import type { StoredWindow } from "../core/session/window.ts";
import type { Role } from "../core/team/roles.ts";
import { loadConfig } from "../platform/config.ts";
import { addCounts, readCounts } from "./counters.ts";
import { GroupCommit } from "./group-commit.ts";
import { schedulePush } from "./live-push.ts";
import { acceptViewer, answerViewer, closeAllViewers, closeRevokedViewers, viewersChanged } from "./live-sockets.ts";
import { applyToWindows, dropWindows, type LiveItem, liveSnapshot, storedWindows } from "./live-windows.ts";
import { PropertyAlerts } from "./property-alerts.ts";
import * as funnels from "./property-funnels.ts";
import * as goals from "./property-goals.ts";
import type { Credentials, KeyInfo } from "./property-keys.ts";
import * as keys from "./property-keys.ts";
import {
  armSweep,
  type PropertyState,
  readTombstone,
  sweep,
  type Tombstone,
  wipeAfterTombstone,
  writeTombstone,
} from "./property-lifecycle.ts";
import * as quota from "./property-quota.ts";
import { Serial } from "./serial.ts";

export type { Credentials, KeyInfo } from "./property-keys.ts";
export type { PropertyState, Tombstone } from "./property-lifecycle.ts";
export type { Admission } from "./property-quota.ts";

/** One consumer batch's events and session changes for this property. */
interface LiveCall {
  items: LiveItem[];
  changes: SessionChange[];
  now: number;
}

/** What `create` did: created it (the credentials, shown once), found it existing, or found it deleted. */
export type CreateOutcome = { created: Credentials } | { exists: PropertyConfig } | { deleted: Tombstone };

export class PropertyDO extends DurableObject<Env> {
  /** Creates the property unless it exists or was deleted (a deleted id is never reused). */
  async create(config: PropertyConfig): Promise<CreateOutcome> {
    const { entries, credentials } = await keys.firstCredentials(config.created_at);
    return this.ctx.storage.transaction(async (txn): Promise<CreateOutcome> => {
      const deleted = await txn.get<Tombstone>("tombstone");
      if (deleted) return { deleted };
      const exists = await txn.get<PropertyConfig>("config");
      if (exists) return { exists };
      // One transaction: config, keys and the MP secret exist together or not at all.
      await txn.put({ config, ...entries });
      return { created: credentials };
    });
  }

  /** The configuration, or undefined for a property that was never created or was deleted. */
  async config(): Promise<PropertyConfig | undefined> {
    return this.ctx.storage.get<PropertyConfig>("config");
  }

  /** The configuration or the tombstone, for the admin API (which tells "deleted" from "never was"). */
  async state(): Promise<PropertyState> {
    const [config, tombstone] = await Promise.all([this.config(), readTombstone(this.ctx.storage)]);
    return { ...(config ? { config } : {}), ...(tombstone ? { tombstone } : {}) };
  }

  /**
   * Deletes the property: the tombstone replaces the configuration (events, keys and queries stop
   * here at once), viewers' sockets close, then everything else the actor kept is wiped. Returns the
   * tombstone (the first one, when repeated), or undefined when there never was a property.
   */
  async remove(deletedBy: string, now: number): Promise<Tombstone | undefined> {
    const tombstone = await writeTombstone(this.ctx.storage, deletedBy, now);
    if (!tombstone) return undefined;
    closeAllViewers(this.ctx);
    this.#versions.advance([], Date.now());
    await wipeAfterTombstone(this.ctx.storage);
    return tombstone;
  }

  /** Applies a validated patch; undefined when the property does not exist. */
  async update(patch: PatchProperty): Promise<PropertyConfig | undefined> {
    const current = await this.config();
    if (!current) return undefined;
    const next = applyPatch(current, patch);
    await this.ctx.storage.put("config", next);
    return next;
  }

  /** Records imported history older than anything before (it moves "All time"'s start back). */
  async noteHistory(earliest: number): Promise<void> {
    const current = await this.config();
    if (!current || earliest >= dataStart(current)) return;
    await this.ctx.storage.put("config", { ...current, history_from: earliest });
  }

  /** Every key, active or revoked, without secrets or hashes. */
  async listKeys(): Promise<KeyInfo[]> {
    return keys.listKeys(this.ctx.storage);
  }

  /** Adds a key of a role; the returned `api_key` is the only time its secret exists outside the caller. */
  async createKey(
    label: string,
    now: number,
    role: Role = "admin",
  ): Promise<{ key_id: string; api_key: string; role: Role } | undefined> {
    if (!(await this.config())) return undefined;
    return this.#keySteps.run(() => keys.addKey(this.ctx.storage, label, now, role));
  }

  /** Revokes a key and closes the sockets it may have opened; false when there is no such active key. */
  async revokeKey(keyId: string, now: number): Promise<boolean> {
    if (!(await this.#keySteps.run(() => keys.revokeKey(this.ctx.storage, keyId, now)))) return false;
    closeRevokedViewers(this.ctx, keyId);
    return true;
  }

  /** True when the key is one of this property's active keys (hash compared in constant time). */
  async verifyKey(apiKey: string): Promise<boolean> {
    return (await keys.keyRole(this.ctx.storage, apiKey)) !== undefined;
  }

  /** The role of one of this property's active keys, or undefined. */
  async keyRole(apiKey: string): Promise<Role | undefined> {
    return keys.keyRole(this.ctx.storage, apiKey);
  }

  /** Replaces the Measurement Protocol secret; the old one stops working at once. */
  async rotateMpSecret(): Promise<string | undefined> {
    if (!(await this.config())) return undefined;
    return keys.rotateMpSecret(this.ctx.storage);
  }

  /** True when the secret is this property's Measurement Protocol secret. */
  async verifyMpSecret(secret: string): Promise<boolean> {
    return keys.verifyMpSecret(this.ctx.storage, secret);
  }

  /** Adds refusal counts (403 origin, 429 rate limit, …) flushed by the edge. */
  async recordRefusals(counts: Record<string, number>): Promise<void> {
    if (await readTombstone(this.ctx.storage)) return;
    await addCounts(this.ctx.storage, "refusals", counts);
  }

  /** The refusal counts so far, by reason. */
  async refusals(): Promise<Record<string, number>> {
    return readCounts(this.ctx.storage, "refusals");
  }

  /** The property's goals, oldest first ([] for none, or for a property that does not exist). */
  async goals(): Promise<Goal[]> {
    return goals.readGoals(this.ctx.storage);
  }

  /** Adds a goal; "exists" when the name is taken (any case), "full" at 100, undefined without a property. */
  async addGoal(goal: Goal): Promise<Goal[] | "exists" | "full" | undefined> {
    if (!(await this.config())) return undefined;
    return goals.addGoal(this.ctx.storage, goal);
  }

  /** Deletes the goal of that name (any case); false when there is none. */
  async deleteGoal(name: string): Promise<boolean> {
    return goals.deleteGoal(this.ctx.storage, name);
  }

  /** The saved funnels ([] for none, or for a property that does not exist). */
  async funnels(): Promise<SavedFunnel[]> {
    return funnels.readFunnels(this.ctx.storage);
  }

  /** Replaces the saved funnels with a validated list; undefined without a property. */
  async setFunnels(list: SavedFunnel[]): Promise<SavedFunnel[] | undefined> {
    if (!(await this.config())) return undefined;
    return funnels.writeFunnels(this.ctx.storage, list);
  }

  /** Counts one query against `limit` per clock hour; refused queries are not counted. */
  async chargeQuery(now: number, limit: number, units = 1): Promise<quota.QuotaCharge> {
    return quota.chargeQuery(this.ctx.storage, now, limit, units);
  }

  /** A query's one call: its charge, and the data versions that key its cache entry. */
  async admitQuery(now: number, limit: number): Promise<quota.Admission> {
    // Read before the charge's storage I/O: an older reading is the safe side of "settled".
    const data = this.#versions.read(Date.now());
    return { quota: await quota.chargeQuery(this.ctx.storage, now, limit), data };
  }

  readonly #versions = new quota.DataVersions();
  /** Key changes one at a time: the list is read, changed and written back (durable-objects/serial.ts). */
  readonly #keySteps = new Serial();
  readonly #alerts = new PropertyAlerts(this.ctx, this.env);

  /**
   * Counts one consumer batch of this property's events into the live minute windows (one storage
   * write), then advances the data versions: the consumer inserts the batch into ClickHouse once
   * this returns. `repeatTimes`: the times of the batch's repeats, which a redelivery may still write
   * (they count in no window, but move the versions). Returns the storage rows written (windows,
   * pruning, push bookkeeping, the alert detector), for the cost measurements.
   */
  async applyLive(
    items: LiveItem[],
    changes: SessionChange[],
    now: number,
    repeatTimes: number[] = [],
  ): Promise<number> {
    const rows = await this.#commits.run({ items, changes, now });
    this.#versions.advance([...items.map((i) => i.event.event_timestamp), ...repeatTimes], Date.now());
    return rows;
  }

  /**
   * Calls within ACTOR_COMMIT_MS are counted in one storage transaction (windows and their pruning
   * land together or not at all); each call returns after it; the first reports the rows.
   */
  readonly #commits = new GroupCommit<LiveCall, number>(loadConfig(this.env).ACTOR_COMMIT_MS, async (calls) => {
    // A deleted property keeps no live windows; its late events (queued before the edges knew) are swept.
    if (await readTombstone(this.ctx.storage)) {
      await armSweep(this.ctx.storage, Date.now());
      return calls.map(() => 0);
    }
    const now = Math.max(...calls.map((c) => c.now));
    const items = calls.flatMap((c) => c.items);
    const changes = calls.flatMap((c) => c.changes);
    const written = await this.ctx.storage.transaction((txn) => applyToWindows(txn, items, changes, now));
    const rows = written > 0 ? written + (await schedulePush(this.ctx, now)) : 0;
    // Minutes that closed since go through the detector (at most one write a minute; never throws).
    const alerted = await this.#alerts.afterCommit(now);
    return calls.map((_, i) => (i === 0 ? rows + alerted : 0));
  });

  /** WebSocket upgrades only (the Worker has authenticated the viewer and names the property). */
  override async fetch(request: Request): Promise<Response> {
    const answer = await acceptViewer(this.ctx, request);
    viewersChanged(this.ctx, this.env);
    return answer;
  }

  /** A viewer may ask for the current snapshot at any time by sending "snapshot". */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await answerViewer(this.ctx.storage, ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    viewersChanged(this.ctx, this.env, ws);
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      // We closed it first (a revoked key, a deletion): the viewer's reply needs no answer.
    }
  }

  /** The one alarm, shared: the push throttle's catch-up, the alerts' minute and outbox; once deleted, the sweep's. */
  override async alarm(): Promise<void> {
    const tombstone = await readTombstone(this.ctx.storage);
    if (tombstone) return void (await sweep(this.ctx.storage, this.env, tombstone));
    await schedulePush(this.ctx, Date.now());
    await this.#alerts.onAlarm(Date.now());
  }

  /** The alert rules (the webhook's URL, never its secret); undefined without a property. */
  async alertRules(): Promise<AlertRules | undefined> {
    return this.#alerts.rules();
  }

  /** Changes the alert rules; `webhook_secret` only when this change set the first webhook (shown once). */
  async setAlertRules(patch: AlertRulesPatch): Promise<{ rules: AlertRules; webhook_secret?: string } | undefined> {
    return this.#alerts.setRules(patch);
  }

  /** A new webhook signing secret (the old one stops at once); "no_webhook" when none is set. */
  async rotateWebhookSecret(): Promise<string | "no_webhook" | undefined> {
    return this.#alerts.rotateSecret();
  }

  /** Sends a signed test notification to the webhook now. */
  async testWebhook(now: number): ReturnType<PropertyAlerts["test"]> {
    return this.#alerts.test(now);
  }

  /** The kept alerts (the last 200), newest first. */
  async listAlerts(status: "open" | "resolved" | "all", limit: number): Promise<Alert[] | undefined> {
    return this.#alerts.list(status, limit);
  }

  /** Stored data changed under every answer (an erasure): cached answers of this property stop being served. */
  async dataChanged(): Promise<void> {
    this.#versions.advance([], Date.now());
  }

  /** Drops the live windows (a replay of the actors rebuilds them). */
  async resetLive(): Promise<void> {
    await dropWindows(this.ctx.storage);
  }

  /** The minute windows still inside the live horizon, in storage form: the query API's live leg. */
  async storedWindows(now: number): Promise<StoredWindow[]> {
    return storedWindows(this.ctx.storage, now);
  }

  /** The realtime snapshot of the last hour, from the live windows. */
  async realtime(propertyId: string, now: number): Promise<RealtimeSnapshot> {
    return liveSnapshot(this.ctx.storage, propertyId, now);
  }
}
