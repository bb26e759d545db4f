/**
 * PropertyDO: the per-property actor. It holds the property's configuration, its API keys (hashes
 * only), its Measurement Protocol secret (hash), refusal counters, and the live state: the last
 * hour of minute windows. The public surface is typed RPC; nothing here speaks HTTP.
 */
import { DurableObject } from "cloudflare:workers";
import { sha256Hex } from "../core/hash.ts";
import { type Goal, goalKey, MAX_GOALS } from "../core/property/goals.ts";
import { digestsEqual, newApiKey, newMpSecret, parseApiKey } from "../core/property/keys.ts";
import { applyPatch, type PatchProperty, type PropertyConfig } from "../core/property/property.ts";
import { type RealtimeSnapshot, realtimeSnapshot } from "../core/session/realtime.ts";
import type { SessionChange } from "../core/session/session.ts";
import { inHorizon, type StoredWindow } from "../core/session/window.ts";
import { HOUR_MS } from "../core/time.ts";
import { addCounts, readCounts } from "./counters.ts";
import { fingerprint, MAX_SOCKETS, PUSH_INTERVAL_MS, type SocketAttachment, snapshotMessage } from "./live-sockets.ts";
import { applyToWindows, type LiveItem, liveWindows } from "./live-windows.ts";

interface StoredKey {
  key_id: string;
  label: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** A key as the admin API lists it: never the secret or its hash. */
export type KeyInfo = Omit<StoredKey, "hash">;

export interface Credentials {
  api_key: string;
  key_id: string;
  mp_api_secret: string;
}

export class PropertyDO extends DurableObject<Env> {
  /** Creates the property; undefined when it already exists. Returns the credentials, shown once. */
  async create(config: PropertyConfig): Promise<Credentials | undefined> {
    if (await this.ctx.storage.get("config")) return undefined;
    const key = await newApiKey();
    const mpSecret = newMpSecret();
    await this.ctx.storage.put({
      config,
      keys: [{ key_id: key.key_id, label: "default", hash: key.hash, created_at: config.created_at, revoked_at: null }],
      mp_secret_hash: await sha256Hex(mpSecret),
    });
    return { api_key: key.api_key, key_id: key.key_id, mp_api_secret: mpSecret };
  }

  /** The configuration, or undefined for a property that was never created. */
  async config(): Promise<PropertyConfig | undefined> {
    return this.ctx.storage.get<PropertyConfig>("config");
  }

  /** Applies a validated patch; undefined when the property does not exist. */
  async update(patch: PatchProperty): Promise<PropertyConfig | undefined> {
    const current = await this.config();
    if (!current) return undefined;
    const next = applyPatch(current, patch);
    await this.ctx.storage.put("config", next);
    return next;
  }

  async listKeys(): Promise<KeyInfo[]> {
    const keys = (await this.ctx.storage.get<StoredKey[]>("keys")) ?? [];
    return keys.map(({ hash: _, ...info }) => info);
  }

  /** Adds a key; the returned `api_key` is the only time its secret exists outside the caller. */
  async createKey(label: string, now: number): Promise<{ key_id: string; api_key: string } | undefined> {
    if (!(await this.config())) return undefined;
    const key = await newApiKey();
    const keys = (await this.ctx.storage.get<StoredKey[]>("keys")) ?? [];
    keys.push({ key_id: key.key_id, label, hash: key.hash, created_at: now, revoked_at: null });
    await this.ctx.storage.put("keys", keys);
    return { key_id: key.key_id, api_key: key.api_key };
  }

  /** Revokes a key; false when there is no such active key. */
  async revokeKey(keyId: string, now: number): Promise<boolean> {
    const keys = (await this.ctx.storage.get<StoredKey[]>("keys")) ?? [];
    const key = keys.find((k) => k.key_id === keyId && k.revoked_at === null);
    if (!key) return false;
    key.revoked_at = now;
    await this.ctx.storage.put("keys", keys);
    return true;
  }

  /** True when the key is one of this property's active keys (hash compared in constant time). */
  async verifyKey(apiKey: string): Promise<boolean> {
    const parsed = parseApiKey(apiKey);
    if (!parsed) return false;
    const keys = (await this.ctx.storage.get<StoredKey[]>("keys")) ?? [];
    const hash = await sha256Hex(parsed.secret);
    const key = keys.find((k) => k.key_id === parsed.key_id && k.revoked_at === null);
    return key !== undefined && digestsEqual(key.hash, hash);
  }

  /** Replaces the Measurement Protocol secret; the old one stops working at once. */
  async rotateMpSecret(): Promise<string | undefined> {
    if (!(await this.config())) return undefined;
    const secret = newMpSecret();
    await this.ctx.storage.put("mp_secret_hash", await sha256Hex(secret));
    return secret;
  }

  async verifyMpSecret(secret: string): Promise<boolean> {
    const stored = await this.ctx.storage.get<string>("mp_secret_hash");
    return stored !== undefined && digestsEqual(stored, await sha256Hex(secret));
  }

  /** Adds refusal counts (403 origin, 429 rate limit, …) flushed by the edge. */
  async recordRefusals(counts: Record<string, number>): Promise<void> {
    await addCounts(this.ctx.storage, "refusals", counts);
  }

  async refusals(): Promise<Record<string, number>> {
    return readCounts(this.ctx.storage, "refusals");
  }

  // --- Goals and the query quota. Goals sit under their own key, not inside `config`,
  // so the collect path's config reads stay small; the quota is a fixed window per clock hour.

  /** The property's goals, oldest first ([] for none, or for a property that does not exist). */
  async goals(): Promise<Goal[]> {
    return (await this.ctx.storage.get<Goal[]>("goals")) ?? [];
  }

  /** Adds a goal; "exists" when the name is taken (any case), "full" at 100, undefined without a property. */
  async addGoal(goal: Goal): Promise<Goal[] | "exists" | "full" | undefined> {
    if (!(await this.config())) return undefined;
    const goals = await this.goals();
    if (goals.some((g) => goalKey(g.name) === goalKey(goal.name))) return "exists";
    if (goals.length >= MAX_GOALS) return "full";
    goals.push(goal);
    await this.ctx.storage.put("goals", goals);
    return goals;
  }

  /** Deletes the goal of that name (any case); false when there is none. */
  async deleteGoal(name: string): Promise<boolean> {
    const goals = await this.goals();
    const kept = goals.filter((g) => goalKey(g.name) !== goalKey(name));
    if (kept.length === goals.length) return false;
    await this.ctx.storage.put("goals", kept);
    return true;
  }

  /** Counts one query against `limit` per clock hour; refused queries are not counted. */
  async chargeQuery(
    now: number,
    limit: number,
  ): Promise<{ allowed: boolean; remaining: number; retry_after_seconds: number }> {
    const hourStart = now - (now % HOUR_MS);
    const key = `quota:${hourStart}`;
    const retry_after_seconds = Math.max(1, Math.ceil((hourStart + HOUR_MS - now) / 1000));
    // The read and the write below are not interleaved with other calls: storage operations keep
    // the actor's input gate closed, so two concurrent queries cannot both take the last unit.
    const used = (await this.ctx.storage.get<number>(key)) ?? 0;
    if (used >= limit) return { allowed: false, remaining: 0, retry_after_seconds };
    if (used === 0) {
      // First query of a new hour: earlier windows are finished, drop them.
      const old = [...(await this.ctx.storage.list({ prefix: "quota:" })).keys()].filter((k) => k !== key);
      if (old.length > 0) await this.ctx.storage.delete(old);
    }
    await this.ctx.storage.put(key, used + 1);
    return { allowed: true, remaining: limit - used - 1, retry_after_seconds };
  }

  /** Counts one consumer batch of this property's events into the live minute windows (one storage write). */
  /** Returns the storage rows written (windows, pruning, push bookkeeping), for the cost measurements. */
  async applyLive(items: LiveItem[], changes: SessionChange[], now: number): Promise<number> {
    // One storage transaction per batch: the windows and their pruning land together or not at all.
    const written = await this.ctx.storage.transaction((txn) => applyToWindows(txn, items, changes, now));
    return written > 0 ? written + (await this.#schedulePush(now)) : 0;
  }

  /** WebSocket upgrades only (the Worker has authenticated the viewer and names the property). */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("expected a WebSocket upgrade", { status: 426 });
    const propertyId = request.headers.get("x-tally-property") ?? "";
    if (this.ctx.getWebSockets().length >= MAX_SOCKETS)
      return new Response("too many live connections", { status: 429 });
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    this.ctx.acceptWebSocket(server, [propertyId]);
    const attachment: SocketAttachment = {
      property_id: propertyId,
      viewer: (request.headers.get("x-tally-viewer") ?? "key") as SocketAttachment["viewer"],
      connected_at: Date.now(),
    };
    server.serializeAttachment(attachment);
    // Heartbeats are answered by the runtime without waking the actor.
    this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    server.send(snapshotMessage(await this.realtime(propertyId, Date.now())));
    return new Response(null, { status: 101, webSocket: client });
  }

  /** A viewer may ask for the current snapshot at any time by sending "snapshot". */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message !== "snapshot") return;
    const { property_id } = ws.deserializeAttachment() as SocketAttachment;
    ws.send(snapshotMessage(await this.realtime(property_id, Date.now())));
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    ws.close(code === 1005 ? 1000 : code, "bye");
  }

  /** The throttle: push now if a second has passed since the last push, else when it will have. */
  override async alarm(): Promise<void> {
    await this.#push(Date.now());
  }

  /** Pushes now or arms the throttle alarm; returns the rows that wrote. */
  async #schedulePush(now: number): Promise<number> {
    if (this.ctx.getWebSockets().length === 0) return 0;
    const last = (await this.ctx.storage.get<number>("push:last_at")) ?? 0;
    if (now - last >= PUSH_INTERVAL_MS) return this.#push(now);
    if ((await this.ctx.storage.getAlarm()) !== null) return 0;
    await this.ctx.storage.setAlarm(last + PUSH_INTERVAL_MS);
    return 1;
  }

  async #push(now: number): Promise<number> {
    const sockets = this.ctx.getWebSockets();
    const first = sockets[0];
    if (!first) return 0;
    const { property_id } = first.deserializeAttachment() as SocketAttachment;
    const snapshot = await this.realtime(property_id, now);
    const print = fingerprint(snapshot);
    if ((await this.ctx.storage.get<string>("push:fingerprint")) === print) return 0;
    await this.ctx.storage.put({ "push:last_at": now, "push:fingerprint": print });
    const message = snapshotMessage(snapshot);
    for (const ws of sockets) {
      try {
        ws.send(message);
      } catch {
        // A socket closing while we send: the close handler tidies up.
      }
    }
    return 2;
  }

  /** The realtime snapshot of the last hour, from the live windows. */
  /** Drops the live windows (a replay of the actors rebuilds them). */
  async resetLive(): Promise<void> {
    const keys = [...(await this.ctx.storage.list({ prefix: "w:" })).keys()];
    for (let i = 0; i < keys.length; i += 128) await this.ctx.storage.delete(keys.slice(i, i + 128));
  }

  /** The minute windows still inside the live horizon, in storage form: the query API's live leg. */
  async storedWindows(now: number): Promise<StoredWindow[]> {
    const stored = await this.ctx.storage.list<StoredWindow>({ prefix: "w:" });
    return [...stored.values()].filter((w) => inHorizon(w.minute, now));
  }

  async realtime(propertyId: string, now: number): Promise<RealtimeSnapshot> {
    return realtimeSnapshot(propertyId, await liveWindows(this.ctx.storage, now), now);
  }
}
