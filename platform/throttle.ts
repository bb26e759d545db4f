/**
 * Per-address limits on what a request without valid credentials can make the actors do:
 * - failed authentications (AUTH_FAILURE_LIMITER): past it the address is refused with 429 for
 *   every credentialed request until the window passes — a block list in the isolate, shared with
 *   the location's other isolates through the Cache API;
 * - actor lookups of names nobody vouched for (LOOKUP_RATE_LIMITER): unknown domains, origins and
 *   property ids.
 * An address is never kept: a client is SHA-256 of the registry's daily salt and the address (an
 * IPv6 address's /64), the same in every isolate (so the limiter and the cache count it once) and
 * unlinkable after 48 h.
 * Requests without CF-Connecting-IP have no client and no per-address limit: Cloudflare sets the
 * header on every request from the internet, so only tests and service bindings lack it.
 */
import { AUTH_BLOCK_SECONDS, addressBucket, BlockList } from "../core/abuse.ts";
import { AppError } from "../core/errors.ts";
import { sha256Hex } from "../core/hash.ts";
import { dailySalt } from "./salts.ts";

const BLOCK_URL = "https://abuse.tally.internal/auth-blocked/";
const blocked = new BlockList();

/** How limiters and caches know an address: the salted hash of its bucket (an IPv6 address's /64). */
export async function addressKey(env: Env, address: string): Promise<string> {
  return sha256Hex(`${await dailySalt(env)}|client|${addressBucket(address)}`);
}

/** The client's hash, or undefined for a request without an address. */
export async function clientOf(env: Env, request: Request): Promise<string | undefined> {
  const address = request.headers.get("cf-connecting-ip");
  return address ? addressKey(env, address) : undefined;
}

const blockedError = (seconds: number) =>
  new AppError("rate_limited", 429, `too many failed authentications from this address; retry after ${seconds} s`, {
    retryAfterSeconds: seconds,
  });

/** Seconds left of the client's block: the isolate's list first, then the location's cache. */
async function blockSeconds(client: string, now: number): Promise<number> {
  const local = blocked.secondsLeft(client, now);
  if (local > 0) return local;
  const hit = await caches.default.match(BLOCK_URL + client).catch(() => undefined);
  const until = hit ? Number(await hit.text()) : 0;
  if (!(until > now)) return 0;
  blocked.block(client, until);
  return blocked.secondsLeft(client, now);
}

async function block(client: string, now: number): Promise<void> {
  const until = now + AUTH_BLOCK_SECONDS * 1000;
  blocked.block(client, until);
  const headers = { "Cache-Control": `max-age=${AUTH_BLOCK_SECONDS}` };
  // The isolate's list already refuses the client; the shared copy only spares other isolates a call.
  await caches.default.put(BLOCK_URL + client, new Response(String(until), { headers })).catch(() => undefined);
}

/** What a credential check reports back: `fail` counts a wrong credential and returns the error to throw. */
export interface CredentialGate {
  fail(error: AppError): Promise<AppError>;
}

/**
 * Call before checking a presented credential: throws 429 while the address is blocked. A wrong
 * credential goes through `fail`, which counts it and turns the refusal that crosses the limit
 * into the block's 429.
 */
export async function credentialGate(env: Env, request: Request, now = Date.now()): Promise<CredentialGate> {
  const client = await clientOf(env, request);
  if (client === undefined) return { fail: async (error) => error };
  const left = await blockSeconds(client, now);
  if (left > 0) throw blockedError(left);
  return {
    async fail(error) {
      if ((await env.AUTH_FAILURE_LIMITER.limit({ key: client })).success) return error;
      await block(client, now);
      return blockedError(AUTH_BLOCK_SECONDS);
    },
  };
}

/** Called before an actor lookup no credential vouched for; throws 429 past the address's budget. */
export type LookupGuard = () => Promise<void>;

/** The request's lookup budget (the address is hashed only if a lookup reaches an actor). */
export function lookupGuard(env: Env, request: Request): LookupGuard {
  let client: Promise<string | undefined> | undefined;
  return async function guardLookup() {
    client ??= clientOf(env, request);
    const key = await client;
    if (key === undefined || (await env.LOOKUP_RATE_LIMITER.limit({ key })).success) return;
    throw new AppError(
      "rate_limited",
      429,
      "too many lookups of unknown sites, origins or properties from this address; retry after 60 s",
      { retryAfterSeconds: 60 },
    );
  };
}
