/**
 * Who the dashboard acts as: an admin token (every property, and the property list) and/or API
 * keys, one per property. Kept in sessionStorage (gone with the tab), or in localStorage for
 * REMEMBER_DAYS when the person asks to stay signed in on this device; never in the URL, so a shared
 * link never carries a secret. Signing out clears both.
 */
import { useSyncExternalStore } from "react";
import { api, type PropertySummary } from "./api.ts";

export interface Credentials {
  admin?: string;
  /** property_id → API key. */
  keys: Record<string, string>;
  remember: boolean;
}

const KEY = "tally.credentials";
/** How long "keep me signed in on this device" lasts: then the key must be typed again. */
export const REMEMBER_DAYS = 30;
const EMPTY: Credentials = { keys: {}, remember: false };
let current: Credentials = load();
const listeners = new Set<() => void>();

function load(): Credentials {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const text = store.getItem(KEY);
      if (!text) continue;
      const stored = JSON.parse(text) as Credentials & { expires_at?: number };
      // A remembered sign-in without an expiry predates it: treated as expired too.
      if (store === localStorage && !((stored.expires_at ?? 0) > Date.now())) {
        store.removeItem(KEY);
        continue;
      }
      const { expires_at: _expires, ...credentials } = stored;
      return { ...EMPTY, ...credentials };
    } catch {
      // Storage refused (private mode) or garbled: start signed out.
    }
  }
  return EMPTY;
}

function save(next: Credentials): void {
  current = next;
  try {
    sessionStorage.removeItem(KEY);
    localStorage.removeItem(KEY);
    const signedIn = Boolean(next.admin) || Object.keys(next.keys).length > 0;
    if (signedIn && next.remember)
      localStorage.setItem(KEY, JSON.stringify({ ...next, expires_at: Date.now() + REMEMBER_DAYS * 86_400_000 }));
    else if (signedIn) sessionStorage.setItem(KEY, JSON.stringify(next));
  } catch {
    // Without storage the session lasts as long as the page.
  }
  for (const l of listeners) l();
}

export function useCredentials(): Credentials {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => current,
  );
}

/** The bearer token for a property: its own key, else the admin token. */
export function tokenFor(credentials: Credentials, propertyId: string): string | undefined {
  return credentials.keys[propertyId] ?? credentials.admin;
}

export function signOut(): void {
  save(EMPTY);
}

/**
 * Checks a token against the API before keeping it. An API key (`tk_…`) needs its property; any
 * other token is tried as the admin token. Returns the property to open.
 */
export async function signIn(token: string, propertyId: string, remember: boolean): Promise<string> {
  const trimmed = token.trim();
  const property = propertyId.trim();
  if (trimmed.startsWith("tk_")) {
    if (!property) throw new Error("An API key belongs to one property: enter its ID (for example UA-DEMO-1).");
    await api(trimmed, `/api/v1/properties/${encodeURIComponent(property)}/goals`);
    save({ ...current, keys: { ...current.keys, [property]: trimmed }, remember });
    return property;
  }
  const { properties } = await api<{ properties: PropertySummary[] }>(trimmed, "/api/v1/properties");
  save({ ...current, admin: trimmed, remember });
  if (property) return property;
  return properties[0]?.property_id ?? "";
}
