/**
 * What the edge checks before a request without valid credentials may cost an actor call: the
 * shape of credentials and names, the cap on Plausible's domain fan-out, and the block list of
 * addresses that failed authentication too often. Pure; platform/throttle.ts hosts it.
 */
import { parseApiKey } from "./property/keys.ts";

/** Plausible's `d` fans one hit out to several sites; Plausible itself rolls up to a handful. */
export const MAX_PLAUSIBLE_DOMAINS = 10;

/** How long an address that failed authentication too often is refused: the limiter's period. */
export const AUTH_BLOCK_SECONDS = 60;

/** A GA4 `api_secret` as newMpSecret makes it: 24 random bytes in base64url. */
const MP_SECRET_PATTERN = /^[A-Za-z0-9_-]{32}$/;

/** Characters a host name can have; anything else cannot be any property's domain. */
const HOST_CHARACTERS = /^[a-z0-9.-]{1,253}$/;

/**
 * The unit an address is limited as: an IPv4 address itself, an IPv6 address's /64 — one
 * subscriber's network, whose host can take any of its 2^64 addresses to dodge a per-address
 * limit. An IPv4-mapped IPv6 address counts as its IPv4 address; anything else is kept as given.
 */
export function addressBucket(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(":")) return address;
  const [head = "", tail, ...rest] = address.toLowerCase().split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  if (rest.length > 0 || missing < 0 || (tail === undefined && missing !== 0)) return address;
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** True when the token has the shape of an API key (`tk_<8 hex>_<43 base64url>`). */
export function isWellFormedApiKey(token: string): boolean {
  return parseApiKey(token) !== undefined;
}

/** True when the secret has the shape of a Measurement Protocol secret. */
export function isWellFormedMpSecret(secret: string): boolean {
  return MP_SECRET_PATTERN.test(secret);
}

/** True when the (lowercase) name could be a listed domain, so looking it up can find something. */
export function couldBeHost(name: string): boolean {
  return HOST_CHARACTERS.test(name);
}

/** The distinct domains of a Plausible hit, or the message of a 400 naming `d` when there are too many. */
export function plausibleDomains(
  domains: readonly string[],
): { ok: true; domains: string[] } | { ok: false; message: string } {
  const unique = [...new Set(domains)];
  if (unique.length <= MAX_PLAUSIBLE_DOMAINS) return { ok: true, domains: unique };
  return {
    ok: false,
    message: `d: names ${unique.length} sites; at most ${MAX_PLAUSIBLE_DOMAINS} per event`,
  };
}

/**
 * Addresses (their hashes) refused until a moment. Bounded: past `maxEntries` the list starts
 * over, which at worst lets a blocked address make one more counted attempt.
 */
export class BlockList {
  readonly #until = new Map<string, number>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  /** Refuses the key until `untilMs`. */
  block(key: string, untilMs: number): void {
    if (this.#until.size >= this.#maxEntries) this.#until.clear();
    this.#until.set(key, untilMs);
  }

  /** Whole seconds left of the key's block (at least 1 while blocked), 0 when it is not blocked. */
  secondsLeft(key: string, nowMs: number): number {
    const until = this.#until.get(key);
    if (until === undefined) return 0;
    if (until <= nowMs) {
      this.#until.delete(key);
      return 0;
    }
    return Math.max(1, Math.ceil((until - nowMs) / 1000));
  }
}
