/**
 * The PropertyDO's credentials in its storage: API keys under "keys" (hashes only, revoked keys
 * kept with their revocation time) and the Measurement Protocol secret's hash under
 * "mp_secret_hash". Secrets exist only in the answers that create them.
 */
import { sha256Hex } from "../core/hash.ts";
import { digestsEqual, newApiKey, newMpSecret, parseApiKey } from "../core/property/keys.ts";
import type { Role } from "../core/team/roles.ts";

interface StoredKey {
  key_id: string;
  label: string;
  hash: string;
  created_at: number;
  revoked_at: number | null;
  /** Absent on keys issued before roles (issue #21): they keep what they could do, `admin`'s reach. */
  role?: Role;
}

/** A key as the admin API lists it: never the secret or its hash. */
export type KeyInfo = Omit<StoredKey, "hash" | "role"> & { role: Role };

/** What a new property's creator receives, once. */
export interface Credentials {
  api_key: string;
  key_id: string;
  mp_api_secret: string;
}

async function readKeys(storage: DurableObjectStorage): Promise<StoredKey[]> {
  return (await storage.get<StoredKey[]>("keys")) ?? [];
}

/** A new property's first key ("default") and MP secret: the storage entries and the secrets to show. */
export async function firstCredentials(
  createdAt: number,
): Promise<{ entries: { keys: StoredKey[]; mp_secret_hash: string }; credentials: Credentials }> {
  const key = await newApiKey();
  const mpSecret = newMpSecret();
  return {
    entries: {
      keys: [{ key_id: key.key_id, label: "default", hash: key.hash, created_at: createdAt, revoked_at: null }],
      mp_secret_hash: await sha256Hex(mpSecret),
    },
    credentials: { api_key: key.api_key, key_id: key.key_id, mp_api_secret: mpSecret },
  };
}

/** Every key, active or revoked, without its hash. */
export async function listKeys(storage: DurableObjectStorage): Promise<KeyInfo[]> {
  return (await readKeys(storage)).map(({ hash: _, role, ...info }) => ({ ...info, role: role ?? "admin" }));
}

/** Adds a key and returns its secret, which is stored only as a hash. */
export async function addKey(
  storage: DurableObjectStorage,
  label: string,
  now: number,
  role: Role = "admin",
): Promise<{ key_id: string; api_key: string; role: Role }> {
  const key = await newApiKey();
  const keys = await readKeys(storage);
  keys.push({ key_id: key.key_id, label, hash: key.hash, created_at: now, revoked_at: null, role });
  await storage.put("keys", keys);
  return { key_id: key.key_id, api_key: key.api_key, role };
}

/** Marks an active key revoked; false when there is no such active key. */
export async function revokeKey(storage: DurableObjectStorage, keyId: string, now: number): Promise<boolean> {
  const keys = await readKeys(storage);
  const key = keys.find((k) => k.key_id === keyId && k.revoked_at === null);
  if (!key) return false;
  key.revoked_at = now;
  await storage.put("keys", keys);
  return true;
}

/** True when the key id names an active key (a WebSocket token's minter: the token proved the rest). */
export async function isActiveKeyId(storage: DurableObjectStorage, keyId: string): Promise<boolean> {
  return (await readKeys(storage)).some((k) => k.key_id === keyId && k.revoked_at === null);
}

/** The role of an active key (hash compared in constant time), or undefined. */
export async function keyRole(storage: DurableObjectStorage, apiKey: string): Promise<Role | undefined> {
  const parsed = parseApiKey(apiKey);
  if (!parsed) return undefined;
  const keys = await readKeys(storage);
  const hash = await sha256Hex(parsed.secret);
  const key = keys.find((k) => k.key_id === parsed.key_id && k.revoked_at === null);
  return key !== undefined && digestsEqual(key.hash, hash) ? (key.role ?? "admin") : undefined;
}

/** Stores a new MP secret's hash in place of the old one and returns the secret. */
export async function rotateMpSecret(storage: DurableObjectStorage): Promise<string> {
  const secret = newMpSecret();
  await storage.put("mp_secret_hash", await sha256Hex(secret));
  return secret;
}

/** True when the secret hashes to the stored MP secret hash. */
export async function verifyMpSecret(storage: DurableObjectStorage, secret: string): Promise<boolean> {
  const stored = await storage.get<string>("mp_secret_hash");
  return stored !== undefined && digestsEqual(stored, await sha256Hex(secret));
}
