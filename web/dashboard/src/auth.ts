/**
 * Who the dashboard acts as: a person's account (an HttpOnly session cookie the page never sees,
 * so only `GET /api/v1/auth/me`'s answer is kept, in memory), an admin token (every property, and the
 * property list) and/or API keys, one per property. Tokens are kept in sessionStorage (gone with the
 * tab), or in localStorage for REMEMBER_DAYS when the person asks to stay signed in on this device;
 * never in the URL, so a shared link never carries a secret. Signing out clears all of it.
 */
import { useSyncExternalStore } from "react";
import { ApiError, api, type Me, onRefusal, type PropertySummary, SESSION } from "./api.ts";
import { forgetAnswers } from "./use-api.ts";

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

/**
 * The token for a property: the admin token, else its own key, else the session cookie (SESSION)
 * when the account is a member of it. A key or the admin token was typed on purpose, so it wins.
 */
export function tokenFor(credentials: Credentials, propertyId: string, me?: Me | null): string | undefined {
  // The admin token first: it holds everything a key does, and more (the Operations page).
  const token = credentials.admin ?? credentials.keys[propertyId];
  if (token) return token;
  return me?.properties.some((p) => p.property_id === propertyId) ? SESSION : undefined;
}

/** Forgets the typed keys and tokens (and every remembered answer: the next person must not see them). */
export function signOut(): void {
  forgetAnswers();
  save(EMPTY);
}

// ─── The account session ─────────────────────────────────────────────────────────────────────────

/** `undefined`: not known yet (GET /auth/me is on its way); `null`: no session. */
let me: Me | null | undefined;
const meListeners = new Set<() => void>();
let checking: Promise<void> | undefined;

function setMe(next: Me | null): void {
  me = next;
  for (const l of meListeners) l();
}

/** The signed-in person (undefined while the first check runs, null when there is none). */
export function useMe(): Me | null | undefined {
  if (me === undefined) void checkSession();
  return useSyncExternalStore(
    (l) => {
      meListeners.add(l);
      return () => meListeners.delete(l);
    },
    () => me,
  );
}

/** Asks the server whether the cookie is a session (401: none; an older server without the route: none). */
export function checkSession(): Promise<void> {
  checking ??= api<Me>(SESSION, "/api/v1/auth/me")
    .then(setMe, (error: unknown) => {
      // A network failure is not a sign-out: keep what is known, else start signed out.
      if (error instanceof ApiError && error.status !== 0) setMe(null);
      else if (me === undefined) setMe(null);
    })
    .finally(() => {
      checking = undefined;
    });
  return checking;
}

/** POST /api/v1/auth/sign-in: the answer is the person, the cookie is set by the server. */
export async function signInWithAccount(email: string, password: string): Promise<Me> {
  const next = await api<Me>(SESSION, "/api/v1/auth/sign-in", { body: { email: email.trim(), password } });
  forgetAnswers();
  setMe(next);
  return next;
}

/** Accepting an invitation signs in too: the page keeps the answer as the session. */
export function sessionStarted(next: Me): void {
  forgetAnswers();
  setMe(next);
}

/**
 * Signs out of everything this tab holds: the account's session (or every session of the account,
 * `everywhere`) and the typed keys and tokens. Local state is cleared even when the server fails.
 */
export async function signOutAll(everywhere = false): Promise<void> {
  try {
    if (me) await api(SESSION, `/api/v1/auth/${everywhere ? "sign-out-everywhere" : "sign-out"}`, { method: "POST" });
  } finally {
    signOut();
    setMe(null);
  }
}

// A cookie request refused with 401 means the session ended (signed out elsewhere, expired): ask again.
onRefusal((status, token) => {
  if (status === 401 && token === SESSION && me) void checkSession();
});

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
