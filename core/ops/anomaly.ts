/**
 * Per-property traffic anomaly detection (issue #18), fed one closed minute at a time by the
 * PropertyDO: spikes and drops of pageviews or visitors against a seasonal baseline
 * (anomaly-baseline.ts), silence, jumps in the bot and refused shares, and a big source vanishing
 * (anomaly-checks.ts). Pure: the state (anomaly-state.ts) is a bounded JSON object, every alert is
 * deterministic, so a retried step gives the same ids.
 */
import { MINUTE_MS } from "../time.ts";
import type { Alert, AlertRules } from "./alerts.ts";
import { type Baseline, expect, learn } from "./anomaly-baseline.ts";
import {
  ANOMALY_WEIGHT,
  type Context,
  type CountReading,
  countAlerts,
  type Step,
  shareAlert,
  sourceAlerts,
} from "./anomaly-checks.ts";
import { DETECTOR_VERSION, type DetectorState, initialDetector, type MinuteSample } from "./anomaly-state.ts";

export {
  DETECTOR_VERSION,
  type DetectorState,
  DetectorStateSchema,
  emptySample,
  initialDetector,
  MAX_SOURCES,
  type MinuteSample,
} from "./anomaly-state.ts";

/** No alerts before this many minutes were observed: there is no baseline yet. */
export const WARMUP_MINUTES = 60;
const MAX_GAP_MINUTES = 60;
/**
 * How far (in thresholds) a minute may pull the weekly profile: far enough to learn a pattern the
 * first week's alerts fought, bounded so a one-off half-hour spike moves next week by under 3 noise widths.
 */
const PROFILE_BAND = 2;

/**
 * The closed minutes to feed, oldest first: after `lastObserved` up to the last minute that ended at
 * least `lateMs` ago (late events have arrived). At most 60; after a longer gap, the last 60 only.
 * With no history, just the last closed minute.
 */
export function minutesToObserve(lastObserved: number | null, now: number, lateMs = 120_000): number[] {
  const lastClosed = Math.floor((now - lateMs) / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
  let from = lastObserved === null ? lastClosed : Math.floor(lastObserved / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  from = Math.max(from, lastClosed - (MAX_GAP_MINUTES - 1) * MINUTE_MS);
  const minutes: number[] = [];
  for (let m = from; m <= lastClosed; m += MINUTE_MS) minutes.push(m);
  return minutes;
}

/** True when silence must be noticed without traffic: a busy, watched site (quiet sites cost no alarms). */
export function needsWatch(state: DetectorState, rules: AlertRules): boolean {
  if (!rules.enabled || state.seen < WARMUP_MINUTES) return false;
  if (!rules.kinds.includes("silence") && !rules.kinds.includes("source_vanished")) return false;
  return state.pageviews.level >= rules.min_pageviews_per_minute || state.open.silence !== undefined;
}

/** Open alerts, oldest first (what the dashboard lists as current). */
export function openAlerts(state: DetectorState): Alert[] {
  return Object.values(state.open).sort((a, b) => a.opened_at - b.opened_at || a.alert_id.localeCompare(b.alert_id));
}

const count = (n: number) => (Number.isFinite(n) && n > 0 ? n : 0);

/** The sample with every count a finite, non-negative number and the minute on a minute boundary. */
function counted(s: MinuteSample): MinuteSample {
  return {
    minute: Math.floor(s.minute / MINUTE_MS) * MINUTE_MS,
    pageviews: count(s.pageviews),
    visitors: count(s.visitors),
    events: count(s.events),
    bot_events: count(s.bot_events),
    refused: count(s.refused),
    sources: s.sources,
  };
}

/**
 * Feeds one closed minute (minutes in order; a minute at or before the last one is ignored, so a
 * retried step changes nothing). Returns the next state and the alerts opened and resolved by it.
 */
export function observeMinute(
  stored: DetectorState,
  input: MinuteSample,
  rules: AlertRules,
  propertyId: string,
): { state: DetectorState; opened: Alert[]; resolved: Alert[] } {
  const sample = counted(input);
  // A state stored by an older detector (another shape) starts afresh, with a new warm-up.
  const previous = stored.version === DETECTOR_VERSION ? stored : initialDetector();
  if (previous.last_minute !== null && sample.minute <= previous.last_minute) {
    return { state: previous, opened: [], resolved: [] };
  }
  const state: DetectorState = {
    ...previous,
    sources: { ...previous.sources },
    streaks: { ...previous.streaks },
    open: { ...previous.open },
    last_minute: sample.minute,
  };
  const step: Step = { state, opened: [], resolved: [] };
  const warm = previous.seen >= WARMUP_MINUTES;
  const ctx: Context = {
    propertyId,
    minute: sample.minute,
    warm,
    rules,
    canOpen: (kind) => warm && rules.enabled && rules.kinds.includes(kind),
  };

  const baselines: Record<"pageviews" | "visitors", Baseline> = {
    pageviews: previous.pageviews,
    visitors: previous.visitors,
  };
  const readings: CountReading[] = (["pageviews", "visitors"] as const).map((metric) => ({
    metric,
    x: sample[metric],
    at: expect(baselines[metric], sample.minute, sample[metric], previous.seen),
  }));
  const weight = countAlerts(step, sample, readings, ctx);
  for (const r of readings) {
    const own = !warm ? 1 : Math.abs(r.at.z) >= rules.threshold ? Math.min(weight, ANOMALY_WEIGHT) : weight;
    state[r.metric] = learn(
      baselines[r.metric],
      sample.minute,
      r.x,
      r.at,
      own,
      previous.seen,
      PROFILE_BAND * rules.threshold,
    );
  }

  const accepted = sample.events + sample.bot_events;
  const bots = { part: sample.bot_events, total: accepted };
  state.bot = shareAlert(step, "bot_share", bots, previous.bot, rules.bot_share_jump, ctx);
  const refused = { part: sample.refused, total: accepted + sample.refused };
  state.refused = shareAlert(step, "refused", refused, previous.refused, rules.refused_share_jump, ctx);
  sourceAlerts(step, sample, weight === 0, ctx);
  state.seen = previous.seen + 1;
  return step;
}
