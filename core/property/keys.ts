/**
 * API keys and Measurement Protocol secrets: random, shown once, stored only as SHA-256 hashes.
 * A key is `tk_<key_id>_<secret>`; the id finds the stored hash, the secret proves possession.
 * Keys have 256 bits of entropy, so a fast hash is enough (no password stretching).
 */

import { base64url } from "../base64.ts";
import { sha256Hex } from "../hash.ts";

const KEY_PATTERN = /^tk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return bytes;
}

/** A new API key and what to store of it. */
export async function newApiKey(): Promise<{ key_id: string; api_key: string; hash: string }> {
  const key_id = Array.from(randomBytes(4), (b) => b.toString(16).padStart(2, "0")).join("");
  const secret = base64url(randomBytes(32));
  return { key_id, api_key: `tk_${key_id}_${secret}`, hash: await sha256Hex(secret) };
}

/** Splits a presented key into its id and secret, or undefined when it is not a key at all. */
export function parseApiKey(apiKey: string): { key_id: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(apiKey);
  return m?.[1] && m[2] ? { key_id: m[1], secret: m[2] } : undefined;
}

/** A new GA4 Measurement Protocol `api_secret`. */
export function newMpSecret(): string {
  return base64url(randomBytes(24));
}

/** Constant-time equality of two hex digests of equal length. */
export function digestsEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
