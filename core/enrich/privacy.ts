/**
 * Privacy at the edge: the raw IP never leaves the request. What may be kept is a truncated
 * prefix (/24 for IPv4, /48 for IPv6) or nothing; a visitor without a first-party id gets a
 * cookieless id, a keyed hash of (daily salt, property, IP, UA) that cannot be reversed once the
 * salt is deleted (after 48 h).
 */
import { stripUrl } from "../url.ts";
import { CLICK_ID_PARAMS } from "./page.ts";

export const IP_MODES = ["truncate", "none"] as const;
export type IpMode = (typeof IP_MODES)[number];

/** `203.0.113.77` → `203.0.113.0`; `2001:db8:1:2::5` → `2001:db8:1::`; anything else → ``. */
export function truncateIp(ip: string, mode: IpMode): string {
  if (mode === "none" || ip === "") return "";
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0`;
  if (!ip.includes(":")) return "";
  const [head = "", tail] = ip.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return "";
  const groups = [...headGroups, ...Array(missing).fill("0"), ...tailGroups];
  const first3 = groups.slice(0, 3).map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
  return `${first3.join(":")}::`;
}

/** UTC day of an instant, `2026-11-26`: the unit salts rotate by. */
export function saltDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const encoder = new TextEncoder();

/** HMAC-SHA256(salt, property | ip | ua), first 16 bytes as hex: stable for a day, unlinkable after. */
export async function cookielessVisitorId(
  salt: string,
  propertyId: string,
  ip: string,
  userAgent: string,
): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(salt), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${propertyId}\u0000${ip}\u0000${userAgent}`)),
  );
  let hex = "";
  for (const b of mac.subarray(0, 16)) hex += b.toString(16).padStart(2, "0");
  return `cl_${hex}`;
}

/** `DNT: 1` or `Sec-GPC: 1`: the visitor asked not to be tracked. */
export function asksNotToTrack(headers: Headers): boolean {
  return headers.get("dnt") === "1" || headers.get("sec-gpc") === "1";
}

const CLICK_IDS: ReadonlySet<string> = new Set(CLICK_ID_PARAMS);

/**
 * Whether a page URL's query parameter is stored: campaign tags (`utm_*`), the ad platforms' click
 * ids (page.ts CLICK_ID_PARAMS) and the property's own allowlist (`privacy.query_params`). Anything
 * else — reset tokens, e-mail addresses, session ids — is dropped before the event is queued.
 */
export function keepsPageParam(name: string, allowed: readonly string[]): boolean {
  return name.toLowerCase().startsWith("utm_") || CLICK_IDS.has(name) || allowed.includes(name);
}

/** The page URL as stored: kept parameters only (keepsPageParam), no credentials, the fragment only as a hash route. */
export function privatePageUrl(pageUrl: string, allowed: readonly string[] = [], hashRouting = false): string {
  return stripUrl(pageUrl, (name) => keepsPageParam(name, allowed), hashRouting);
}

/**
 * The referrer as stored: scheme, host and path. Reports read only its host (source, channel);
 * another site's query string is that site's business, and search engines send no terms in it
 * (their referrer policy sends the origin alone).
 */
export function privateReferrer(referrer: string): string {
  return stripUrl(referrer, () => false);
}
