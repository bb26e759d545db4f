/**
 * The PropertyDO's traffic alerts (issue #18), as the actor hosts them: its RPC calls for rules,
 * the webhook and the list; a detector step after each live commit (alert-detection.ts); and its
 * share of the actor's one alarm — the next minute to observe on a busy site, so silence is noticed
 * with no traffic, and the outbox (alert-delivery.ts). The alarm is shared with the push throttle
 * (live-push.ts) and the deletion's sweep: whoever arms it keeps an earlier time, and the alarm
 * runs everything due, then arms the earliest left. A deleted property is never asked.
 */
import type { Alert, AlertRules, AlertRulesPatch } from "../core/ops/alerts.ts";
import type { PropertyConfig } from "../core/property/property.ts";
import type { DeliveryResult } from "../platform/alerts-sink.ts";
import { errorFields, log } from "../platform/log.ts";
import { flushOpsMetrics } from "../platform/ops-metrics.ts";
import { drainOutbox, rotateSecret, sendTest, writeRules } from "./alert-delivery.ts";
import { alertsDueAt, keptAlerts, observeClosedMinutes, readRules } from "./alert-detection.ts";

export class PropertyAlerts {
  readonly #ctx: DurableObjectState;
  readonly #env: Env;
  #draining: Promise<unknown> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    this.#ctx = ctx;
    this.#env = env;
  }

  async #config(): Promise<PropertyConfig | undefined> {
    return this.#ctx.storage.get<PropertyConfig>("config");
  }

  /** The rules (the webhook's URL, never its secret); undefined without a property. */
  async rules(): Promise<AlertRules | undefined> {
    return (await this.#config()) ? readRules(this.#ctx.storage) : undefined;
  }

  async setRules(patch: AlertRulesPatch): Promise<{ rules: AlertRules; webhook_secret?: string } | undefined> {
    if (!(await this.#config())) return undefined;
    const result = await writeRules(this.#ctx.storage, patch);
    // Watching may start or stop with the rules.
    await this.#arm();
    return result;
  }

  async rotateSecret(): Promise<string | "no_webhook" | undefined> {
    return (await this.#config()) ? rotateSecret(this.#ctx.storage) : undefined;
  }

  async test(now: number): Promise<DeliveryResult | "no_webhook" | undefined> {
    const config = await this.#config();
    return config ? sendTest(this.#ctx.storage, config.property_id, now) : undefined;
  }

  async list(status: "open" | "resolved" | "all", limit: number): Promise<Alert[] | undefined> {
    return (await this.#config()) ? keptAlerts(this.#ctx.storage, status, limit) : undefined;
  }

  /**
   * After a live commit: the minutes that closed since, through the detector. Never throws (the
   * batch is committed; a failed step is retried by the next one); returns the storage rows written.
   */
  async afterCommit(now: number): Promise<number> {
    try {
      const config = await this.#config();
      if (!config) return 0;
      const step = await observeClosedMinutes(this.#ctx.storage, config.property_id, now);
      if (step.rows > 0) await this.#arm();
      return step.rows;
    } catch (error) {
      log.error("alert detection failed after a live commit", errorFields(error));
      return 0;
    }
  }

  /** The alarm's part: minutes that closed with no traffic, then the outbox; arms the next time. */
  async onAlarm(now: number): Promise<void> {
    const config = await this.#config();
    if (!config) return;
    await observeClosedMinutes(this.#ctx.storage, config.property_id, now);
    // One drain at a time: a second one started while the first waits on a receiver would send its notices again.
    const drain = this.#draining.then(() => drainOutbox(this.#ctx.storage, this.#env, config.property_id, now));
    this.#draining = drain.catch(() => undefined);
    const drained = await drain;
    // Not after a failure: the runtime retries a failed alarm with its own backoff.
    await this.#arm();
    // An actor's isolate serves no requests that would flush its metrics: the alarm does, at once after sending.
    this.#ctx.waitUntil(flushOpsMetrics(this.#env, Date.now(), { force: drained }));
  }

  /** Brings the alarm forward to the alerts' next due time (never later: another part may need it sooner). */
  async #arm(): Promise<void> {
    const at = await alertsDueAt(this.#ctx.storage);
    if (at === null) return;
    const current = await this.#ctx.storage.getAlarm();
    if (current === null || current > at) await this.#ctx.storage.setAlarm(Math.max(at, Date.now()));
  }
}
