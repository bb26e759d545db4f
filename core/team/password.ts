/**
 * Password hashing: PBKDF2-HMAC-SHA-256 from WebCrypto (native in workerd, Node and browsers, so no
 * library ships in the Worker), 100,000 iterations with a 16-byte random salt. 100,000 is workerd's
 * ceiling for PBKDF2 (it refuses more); OWASP asks 600,000 for SHA-256, so sign-in is also rate
 * limited per address and per account (durable-objects/account-do.ts). The stored form names its
 * parameters, so a later scheme can verify old hashes and rehash on sign-in.
 */
import { base64, fromBase64 } from "../base64.ts";

const ITERATIONS = 100_000;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFC")), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

/** `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, ITERATIONS);
  return `pbkdf2-sha256$${ITERATIONS}$${base64(salt)}$${base64(hash)}`;
}

/** Constant-time check of a password against a stored hash; false for a malformed one. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iterations, salt, hash] = stored.split("$");
  if (scheme !== "pbkdf2-sha256" || !iterations || !salt || !hash) return false;
  const expected = fromBase64(hash);
  const actual = await derive(password, fromBase64(salt), Number(iterations));
  if (actual.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < actual.length; i++) diff |= (actual[i] ?? 0) ^ (expected[i] ?? 0);
  return diff === 0;
}
