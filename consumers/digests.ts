/**
 * The hourly run's scheduled digests (at :10, after the archive's jobs): every active property's
 * digests, each sent when its period is due (core/digest/period.ts: from 06:00 local time on the
 * Monday or the 1st) and not sent yet. A failure is recorded on its digest (`last_error`) and the
 * run goes on; the period stays due, so the next hour tries again. Within a budget: what it does
 * not reach is still due next hour.
 */
import { duePeriod } from "../core/digest/period.ts";
import { type DigestSender, deliverDigest, type RunQuery } from "../platform/digests.ts";
import { log } from "../platform/log.ts";
import { propertyConfig, registryStub } from "../platform/properties.ts";
import { teamStub } from "../platform/team.ts";

/** Wall time the digests may take of the :10 invocation (mostly waiting on queries, SMTP and webhooks). */
export const DIGEST_BUDGET_MS = 120_000;
/** Properties looked at together: each costs a TeamDO call, most have no digest. */
const CONCURRENCY = 6;

export interface DigestRun {
  properties: number;
  sent: number;
  failed: number;
  /** Due, but left for the next run: the budget ran out. */
  deferred: number;
}

/** Sends every due digest; `now` is the Cron's scheduled time (which periods are due), the budget counts from the call. */
export async function sendDueDigests(
  env: Env,
  now: number,
  runQuery: RunQuery,
  deadline = Date.now() + DIGEST_BUDGET_MS,
): Promise<DigestRun> {
  const run: DigestRun = { properties: 0, sent: 0, failed: 0, deferred: 0 };
  const active = (await registryStub(env).list()).filter((e) => e.status === "active").map((e) => e.property_id);
  const sender: DigestSender = { env, runQuery, now };

  async function property(propertyId: string): Promise<void> {
    const digests = await teamStub(env, propertyId).digests();
    if (digests.length === 0) return;
    run.properties++;
    const timezone = (await propertyConfig(env, propertyId))?.timezone ?? "UTC";
    for (const digest of digests) {
      const period = duePeriod(digest, timezone, now);
      if (!period) continue;
      if (Date.now() >= deadline) {
        run.deferred++;
        continue;
      }
      const error = await deliverDigest(sender, propertyId, digest, period);
      if (error === null) run.sent++;
      else {
        run.failed++;
        log.warn("digest not sent", {
          property_id: propertyId,
          digest_id: digest.id,
          period: period.name,
          error: error.message,
        });
      }
    }
  }

  // A few properties at a time; one property's failure (its actor unreachable) does not stop the others.
  let next = 0;
  const worker = async () => {
    while (next < active.length) {
      const id = active[next++] as string;
      if (Date.now() >= deadline) return;
      await property(id).catch((error: unknown) => {
        run.failed++;
        log.warn("digests of a property failed", { property_id: id, error: String(error) });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, active.length) }, worker));
  return run;
}
