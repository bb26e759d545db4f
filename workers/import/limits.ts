/**
 * What one import request may carry, and how fast a property may import. History comes in batches
 * (`npm run import` sends 5,000 lines by default, at most 50,000); both bounds leave those room
 * while keeping one request's work, and one property's share of the queue, bounded.
 */
import { AppError } from "../../core/errors.ts";

import { MAX_IMPORT_BYTES, MAX_IMPORT_LINES } from "../../core/ingest/import-limits.ts";

export { MAX_IMPORT_BYTES, MAX_IMPORT_LINES };
/**
 * Lines one PROPERTY_RATE_LIMITER token buys, drawn under the key `import:<property>` (apart from
 * live traffic's): wrangler.toml's 400 tokens a minute make 10,000,000 imported events per minute
 * per property and Cloudflare location, about what one events queue carries. A token is drawn as
 * a request enters each block of this many lines an isolate has imported for the property.
 */
export const IMPORT_TOKEN_LINES = 25_000;
const RETRY_AFTER_SECONDS = 60;
const MAX_KEYS = 10_000;

const imported = new Map<string, number>();

/** Throws 429 (Retry-After: 60) when the property's import budget refuses the next `lines` lines. */
export async function takeImportBudget(limiter: RateLimit, propertyId: string, lines: number): Promise<void> {
  if (lines === 0) return;
  if (imported.size > MAX_KEYS) imported.clear();
  const before = imported.get(propertyId) ?? 0;
  const after = before + lines;
  const tokens = Math.ceil(after / IMPORT_TOKEN_LINES) - Math.ceil(before / IMPORT_TOKEN_LINES);
  imported.set(propertyId, after);
  if (tokens === 0) return;
  const key = `import:${propertyId}`;
  const taken = await Promise.all(Array.from({ length: tokens }, () => limiter.limit({ key })));
  if (taken.every((t) => t.success)) return;
  // Refused lines are not imported: they do not count towards the next block.
  imported.set(propertyId, before);
  throw new AppError(
    "rate_limited",
    429,
    `property ${propertyId} has used this minute's import budget (${IMPORT_TOKEN_LINES} events per rate-limiter token); retry after ${RETRY_AFTER_SECONDS} s`,
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}

/** The 413 of a request past MAX_IMPORT_BYTES or MAX_IMPORT_LINES. */
export function importTooLarge(what: string): AppError {
  return new AppError(
    "payload_too_large",
    413,
    `body: ${what}; send at most ${MAX_IMPORT_LINES} events and ${MAX_IMPORT_BYTES} bytes per request (npm run import batches for you)`,
  );
}
