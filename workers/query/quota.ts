/**
 * The hourly query quota, charged per statement: a request's admission (PropertyDO.admitQuery)
 * pays for its first statement, and each further one a report, a comparison or a goal runs pays
 * another unit, so `goals` over 100 goals costs 100 units, not 1.
 */
import { AppError } from "../../core/errors.ts";
import { loadConfig } from "../../platform/config.ts";
import { propertyStub } from "../../platform/properties.ts";

/** The 429 of a spent quota, with the seconds until the next clock hour. */
export function quotaRefusal(propertyId: string, limit: number, charge: { retry_after_seconds: number }): AppError {
  return new AppError("rate_limited", 429, `property ${propertyId} has used its ${limit} queries this hour`, {
    retryAfterSeconds: charge.retry_after_seconds,
  });
}

/**
 * A charge per statement after the first (already paid by the admission). Statements started
 * together (a report's, a comparison's) share one PropertyDO call that charges them all; when
 * the quota cannot cover them, each fails its request with 429.
 */
export function statementMeter(env: Env, propertyId: string, prepaid = 1): () => Promise<void> {
  let left = prepaid;
  let batch: { units: number; paid: Promise<void> } | undefined;
  return function chargeStatement() {
    if (left > 0) {
      left--;
      return Promise.resolve();
    }
    if (!batch) {
      const next = { units: 0, paid: Promise.resolve() };
      // Charged after this turn of the event loop, once every statement started with it has joined.
      next.paid = Promise.resolve().then(async () => {
        batch = undefined;
        const limit = loadConfig(env).QUERY_LIMIT_PER_HOUR;
        const charge = await propertyStub(env, propertyId).chargeQuery(Date.now(), limit, next.units);
        if (!charge.allowed) throw quotaRefusal(propertyId, limit, charge);
      });
      batch = next;
    }
    batch.units++;
    return batch.paid;
  };
}
