/**
 * Detection for the PropertyDO's traffic alerts (issue #18): after a live commit and on the alarm, each newly
 * closed minute of the live windows goes through the detector (core/ops/anomaly.ts), whose state
 * sits in ONE key, "alerts:detector", written once per minute observed (the only steady cost).
 * Alerts opened or resolved are kept (the last MAX_KEPT, "alert:<opened_at>:<id>") and queued in
 * "alerts:outbox" for ClickHouse and the webhook, which the alarm drains (alert-delivery.ts): a
 * slow receiver or ClickHouse never holds up a commit. Rules and the webhook's secret sit in
 * "alerts:rules" and "alerts:secret". A deleted property's wipe removes all of it.
 */
import { type Alert, type AlertRules, AlertRulesSchema } from "../core/ops/alerts.ts";
import {
  type DetectorState,
  emptySample,
  initialDetector,
  type MinuteSample,
  minutesToObserve,
  needsWatch,
  observeMinute,
} from "../core/ops/anomaly.ts";
import { admitNotification, recentSends } from "../core/ops/webhook.ts";
import { HyperLogLog } from "../core/session/hll.ts";
import type { StoredWindow } from "../core/session/window.ts";
import { MINUTE_MS } from "../core/time.ts";
import { countMetric } from "../platform/ops-metrics.ts";
import { readCounts } from "./counters.ts";

/** Alerts the actor keeps (the API lists at most these); ClickHouse `alerts` keeps the history. */
export const MAX_KEPT = 200;
/** A minute is observed once this long past its end: the consumer's batches are late by seconds. */
export const LATE_MS = 120_000;
/** Bounds on the outbox, so a receiver down for days cannot grow the key past its limit. */
const MAX_PENDING = 200;

/** The detector and the refusal total it has seen (refusals are cumulative counters). */
interface DetectorRecord {
  detector: DetectorState;
  refusals: number;
}

/** A webhook notice waiting: the alert as it was (open or resolved), its tries and when to try next. */
export interface Delivery {
  alert: Alert;
  attempts: number;
  due: number;
}

/** What the alarm still has to send: ClickHouse rows, webhook notices, and what the daily cap counts. */
export interface Outbox {
  rows: Alert[];
  /** When the row inserts may next be tried (after a failure, the next alarm a minute on). */
  rows_due: number;
  deliveries: Delivery[];
  /** Times of the opened-alert notices admitted in the last 24 h. */
  sent: number[];
  /** Alerts whose opening was admitted: only they get a resolved notice. */
  notified: string[];
}

export const emptyOutbox = (): Outbox => ({ rows: [], rows_due: 0, deliveries: [], sent: [], notified: [] });

type Store = DurableObjectStorage;

const alertKey = (a: Alert) => `alert:${String(a.opened_at).padStart(15, "0")}:${a.alert_id}`;
const windowKey = (minute: number) => `w:${minute}`;

export async function readRules(storage: Store): Promise<AlertRules> {
  return AlertRulesSchema.parse((await storage.get("alerts:rules")) ?? {});
}

export async function readOutbox(storage: Store): Promise<Outbox> {
  return (await storage.get<Outbox>("alerts:outbox")) ?? emptyOutbox();
}

/** The kept alerts, newest opened first. */
export async function keptAlerts(storage: Store, status: "open" | "resolved" | "all", limit: number): Promise<Alert[]> {
  const kept = await storage.list<Alert>({ prefix: "alert:", reverse: true, limit: MAX_KEPT });
  return [...kept.values()].filter((a) => status === "all" || a.status === status).slice(0, limit);
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/** A closed minute as the detector reads it, from its stored window (none: nothing came). */
function sampleOf(minute: number, window: StoredWindow | undefined, refused: number): MinuteSample {
  if (!window) return { ...emptySample(minute), refused };
  return {
    minute,
    pageviews: window.pageviews,
    visitors: HyperLogLog.deserialize(window.visitors).count(),
    events: window.events,
    bot_events: window.bot_events,
    refused,
    sources: Object.fromEntries(window.sources.map((e) => [e.key, e.count])),
  };
}

/** The notices and rows one detector step adds to the outbox, under the daily cap. */
function enqueue(outbox: Outbox, opened: Alert[], resolved: Alert[], rules: AlertRules, now: number): Outbox {
  const next: Outbox = {
    ...outbox,
    rows: [...outbox.rows, ...opened, ...resolved],
    sent: recentSends(outbox.sent, now),
  };
  // New work is due at once (0): the alarm runs on the wall clock, whatever time the batch carried.
  if (next.rows.length === opened.length + resolved.length) next.rows_due = 0;
  if (rules.webhook) {
    for (const alert of opened) {
      if (!admitNotification(next.sent, now, rules.max_per_day)) {
        countMetric("webhook_deliveries", { result: "capped" });
        continue;
      }
      next.sent = [...next.sent, now];
      next.notified = [...next.notified, alert.alert_id].slice(-MAX_KEPT);
      next.deliveries = [...next.deliveries, { alert, attempts: 0, due: 0 }];
    }
    for (const alert of resolved)
      if (next.notified.includes(alert.alert_id))
        next.deliveries = [...next.deliveries, { alert, attempts: 0, due: 0 }];
  }
  next.rows = next.rows.slice(-MAX_PENDING);
  next.deliveries = next.deliveries.slice(-MAX_PENDING);
  return next;
}

/** What a detector step did: storage rows written, and whether the outbox now has work. */
export interface StepResult {
  rows: number;
  pending: boolean;
}

/**
 * Feeds every minute closed since the last one observed to the detector, in one storage write
 * (nothing when no minute closed). Call only with storage awaits inside: the actor's input gate
 * then keeps another event from interleaving between the read and the write.
 */
export async function observeClosedMinutes(storage: Store, propertyId: string, now: number): Promise<StepResult> {
  const rules = await readRules(storage);
  if (!rules.enabled) return { rows: 0, pending: false };
  const stored = await storage.get<DetectorRecord>("alerts:detector");
  const refusals = total(await readCounts(storage, "refusals"));
  const record = stored ?? { detector: initialDetector(), refusals };
  const minutes = minutesToObserve(record.detector.last_minute ?? (await backfillFrom(storage)), now, LATE_MS);
  if (minutes.length === 0) return { rows: 0, pending: false };
  const windows = await storage.get<StoredWindow>(minutes.map(windowKey));
  // Refusals are flushed by the edges now and then: their growth counts in the newest minute.
  const refused = Math.max(0, refusals - record.refusals);
  let detector = record.detector;
  const opened: Alert[] = [];
  const resolved: Alert[] = [];
  for (const [i, minute] of minutes.entries()) {
    const sample = sampleOf(minute, windows.get(windowKey(minute)), i === minutes.length - 1 ? refused : 0);
    const step = observeMinute(detector, sample, rules, propertyId);
    detector = step.state;
    opened.push(...step.opened);
    resolved.push(...step.resolved);
  }
  const entries: Record<string, unknown> = { "alerts:detector": { detector, refusals } satisfies DetectorRecord };
  const changed = [...opened, ...resolved];
  if (changed.length > 0) {
    for (const alert of changed) entries[alertKey(alert)] = alert;
    entries["alerts:outbox"] = enqueue(await readOutbox(storage), opened, resolved, rules, now);
  }
  await storage.put(entries);
  for (const alert of opened) countMetric("alerts_opened", { kind: alert.kind });
  const pruned = opened.length > 0 ? await pruneKept(storage) : 0;
  return { rows: Object.keys(entries).length + pruned, pending: changed.length > 0 };
}

/**
 * Where a new detector starts: before the oldest live window, so it learns from the hour the actor
 * still holds (minutesToObserve keeps the last 60 of them) instead of from nothing.
 */
async function backfillFrom(storage: Store): Promise<number | null> {
  const [oldest] = [...(await storage.list<StoredWindow>({ prefix: "w:", limit: 1 })).values()];
  return oldest ? oldest.minute - MINUTE_MS : null;
}

/** Drops the oldest kept alerts past MAX_KEPT; returns the rows deleted. */
async function pruneKept(storage: Store): Promise<number> {
  const keys = [...(await storage.list({ prefix: "alert:", reverse: true })).keys()].slice(MAX_KEPT);
  if (keys.length > 0) await storage.delete(keys);
  return keys.length;
}

/** When the alarm must next run for the alerts (0: at once): the next minute to observe (busy sites only) or the outbox's. */
export async function alertsDueAt(storage: Store): Promise<number | null> {
  const [rules, record, outbox] = await Promise.all([
    readRules(storage),
    storage.get<DetectorRecord>("alerts:detector"),
    readOutbox(storage),
  ]);
  const times: number[] = [];
  const last = record?.detector.last_minute ?? null;
  if (record && last !== null && needsWatch(record.detector, rules)) times.push(last + 2 * MINUTE_MS + LATE_MS);
  if (outbox.rows.length > 0) times.push(outbox.rows_due);
  for (const d of outbox.deliveries) times.push(d.due);
  return times.length === 0 ? null : Math.min(...times);
}
