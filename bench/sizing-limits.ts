/**
 * Where a size passes a platform limit or a measured rate (docs/production.md lists them under the
 * sizing table): what the design would need there, not a setting. Also the figures' print format.
 */
import { ASSUMPTIONS, LIMITS } from "./sizing-inputs.ts";

/** The events/s the hourly jobs keep up with: their measured rates over their budgets' share of an hour. */
export function hourlyJobsCapacity(): { compaction: number; warehouse: number } {
  const a = ASSUMPTIONS;
  return {
    compaction: (a.compactionRowsPerSecond * a.compactionBudgetSeconds) / 3600,
    warehouse: (a.warehouseRowsPerSecond * a.warehouseBudgetSeconds) / 3600,
  };
}

/** 1,234 / 5.9M / 0.35: a quantity as the table prints it. */
export function fmt(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`;
  if (x >= 100) return Math.round(x).toLocaleString("en-US");
  if (x >= 10) return x.toFixed(0);
  return x.toFixed(x >= 1 ? 1 : 2);
}

export const usd = (x: number) => `$${fmt(x)}`;

/** The model's figures a limit is judged on. */
export interface LimitInputs {
  eventsPerSecond: number;
  hottestQueueMessages: number;
  queueCapacity: number;
  biggestPropertyEvents: number;
  maxConcurrency: number;
}

export function limitsAt(x: LimitInputs): string[] {
  const a = ASSUMPTIONS;
  const { eventsPerSecond, hottestQueueMessages, queueCapacity, biggestPropertyEvents, maxConcurrency } = x;
  const limits: string[] = [];
  if (hottestQueueMessages > queueCapacity)
    limits.push(
      `the biggest property's queue needs ${fmt(hottestQueueMessages)} messages/s, over one queue's ${fmt(queueCapacity)} planned (${fmt(LIMITS.queueMessagesPerSecond)} ceiling): a property's events cannot yet spread over queues`,
    );
  if (biggestPropertyEvents > a.propertyActorEventsPerSecond)
    limits.push(
      `the biggest property's ${fmt(biggestPropertyEvents)} events/s all pass its one PropertyDO, beyond the ${fmt(a.propertyActorEventsPerSecond)}/s one core ran the whole consumer path at: unmeasured`,
    );
  if (maxConcurrency > LIMITS.maxConcurrency)
    limits.push(`max_concurrency ${maxConcurrency} is over Cloudflare's ${LIMITS.maxConcurrency}`);
  const { compaction: compactionCapacity, warehouse: warehouseCapacity } = hourlyJobsCapacity();
  if (eventsPerSecond > compactionCapacity)
    limits.push(
      `compaction's ${a.compactionBudgetSeconds} s an hour merges ~${fmt(compactionCapacity)} events/s (measured in-process): batch files pile up, readable but unmerged`,
    );
  if (eventsPerSecond > warehouseCapacity)
    limits.push(
      `the warehouse's hourly load (${a.warehouseBudgetSeconds} s at ${fmt(a.warehouseRowsPerSecond)} rows/s) keeps up with ≤ ~${fmt(warehouseCapacity)} events/s: its frontier falls behind`,
    );

  return limits;
}
