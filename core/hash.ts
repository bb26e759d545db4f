/** Hashes: a fast non-cryptographic 64-bit hash for sketches and sharding, and SHA-256 as hex. */

/**
 * A fast, well-mixed 64-bit hash of a string, returned as two unsigned 32-bit halves (BigInt would
 * be an order of magnitude slower). Two multiply-xorshift lanes in the manner of cyrb53, kept at
 * full 64-bit width for HyperLogLog, which needs index and rank bits that never run out.
 */
export function hash64(text: string, seed = 0): [hi: number, lo: number] {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // A final avalanche on each lane so every input bit reaches every output bit.
  h1 = Math.imul(h1 ^ (h1 >>> 15), 0x2c1b3c6d);
  h1 = Math.imul(h1 ^ (h1 >>> 12), 0x297a2d39);
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x2c1b3c6d);
  h2 = Math.imul(h2 ^ (h2 >>> 12), 0x297a2d39);
  return [(h1 ^ (h1 >>> 15)) >>> 0, (h2 ^ (h2 >>> 15)) >>> 0];
}

/** Lowercase hex SHA-256 of bytes or text (WebCrypto: the same in workerd, Node and the browser). */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = (typeof data === "string" ? new TextEncoder().encode(data) : data) as Uint8Array<ArrayBuffer>;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
