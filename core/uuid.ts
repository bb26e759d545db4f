/**
 * UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Time-ordered ids keep
 * ClickHouse parts and R2 keys in arrival order. Built on `crypto.randomUUID()` (native in Workers,
 * Node and browsers, and several times cheaper than assembling bytes in JavaScript): its v4 layout
 * already has the RFC variant bits; the first 48 bits become the time and the version nibble a 7.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const random = crypto.randomUUID();
  const time = Math.floor(nowMs).toString(16).padStart(12, "0").slice(-12);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${random.slice(15)}`;
}
