/**
 * Synthetic minute series for the anomaly detector's tests: Poisson counts around a rate curve,
 * from a seeded PRNG, so every run sees the same minutes. Pageviews come in visits of a few pages
 * (over-dispersed, as real traffic is), with bots, refusals and sessions by source alongside.
 */
import type { Alert, AlertRules } from "../../core/ops/alerts.ts";
import { AlertRulesSchema } from "../../core/ops/alerts.ts";
import { type DetectorState, initialDetector, type MinuteSample, observeMinute } from "../../core/ops/anomaly.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../core/time.ts";
import { prng } from "../../dev/prng.ts";

/** Monday 5 January 2026, 00:00 UTC. */
export const T0 = Date.UTC(2026, 0, 5);
export const WEEK = 7 * 1440;

/** Poisson(mean) by inversion for small means, a rounded normal for large ones. */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 60) {
    const u = Math.max(random(), 1e-12);
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  const u = random();
  while (u > cumulative && k < 1000) {
    k += 1;
    p *= mean / k;
    cumulative += p;
  }
  return k;
}

export const SOURCE_SHARES: Record<string, number> = { google: 0.45, direct: 0.35, newsletter: 0.15, reddit: 0.05 };

export interface SeriesOptions {
  seed?: number;
  minutes: number;
  /** Expected pageviews in minute i. */
  rate: (i: number, minute: number) => number;
  botShare?: (i: number) => number;
  refusedShare?: (i: number) => number;
  sources?: (i: number) => Record<string, number>;
}

/** The minutes of a series; a minute's visits carry 2.5 pageviews on average (1–4). */
export function series(options: SeriesOptions): MinuteSample[] {
  const random = prng(options.seed ?? 1);
  const samples: MinuteSample[] = [];
  for (let i = 0; i < options.minutes; i++) {
    const minute = T0 + i * MINUTE_MS;
    const rate = options.rate(i, minute);
    const visitors = poisson(random, rate / 2.5);
    let pageviews = 0;
    for (let v = 0; v < visitors; v++) pageviews += 1 + Math.floor(random() * 4);
    const events = pageviews + poisson(random, rate * 0.2);
    const botShare = options.botShare?.(i) ?? 0.05;
    const bot_events = poisson(random, (events * botShare) / (1 - botShare));
    const refusedShare = options.refusedShare?.(i) ?? 0.01;
    const refused = poisson(random, ((events + bot_events) * refusedShare) / (1 - refusedShare));
    const shares = options.sources?.(i) ?? SOURCE_SHARES;
    const sources: Record<string, number> = {};
    for (const [name, share] of Object.entries(shares)) {
      const n = poisson(random, (rate / 2.5) * share);
      if (n > 0) sources[name] = n;
    }
    samples.push({ minute, pageviews, visitors, events, bot_events, refused, sources });
  }
  return samples;
}

export interface Run {
  state: DetectorState;
  opened: Alert[];
  resolved: Alert[];
  /** Minute index of each opened alert, in order. */
  openedAt: number[];
  resolvedAt: number[];
}

/** Feeds the samples in order from `state` (a fresh detector by default). */
export function run(
  samples: readonly MinuteSample[],
  rules: AlertRules = AlertRulesSchema.parse({}),
  state: DetectorState = initialDetector(),
): Run {
  const out: Run = { state, opened: [], resolved: [], openedAt: [], resolvedAt: [] };
  for (const sample of samples) {
    const step = observeMinute(out.state, sample, rules, "p1");
    out.state = step.state;
    const i = Math.round((sample.minute - T0) / MINUTE_MS);
    for (const a of step.opened) {
      out.opened.push(a);
      out.openedAt.push(i);
    }
    for (const a of step.resolved) {
      out.resolved.push(a);
      out.resolvedAt.push(i);
    }
  }
  return out;
}

/** Smooth 0..1 weight of the daytime at minute `minute` (UTC): low at night, peak mid-afternoon. */
export function dayCurve(minute: number): number {
  const hour = (((minute % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS;
  return 0.1 + 0.9 * (0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24)) ** 1.5;
}

/** Smooth weekday factor: 1 on weekdays, 0.45 on weekends, easing over six hours around midnight. */
export function weekFactor(minute: number): number {
  const days = (minute - T0) / DAY_MS;
  const weekday = ((Math.floor(days) % 7) + 7) % 7;
  const into = days - Math.floor(days);
  const level = (d: number) => (d === 5 || d === 6 ? 0.45 : 1);
  const here = level(weekday);
  const next = level((weekday + 1) % 7);
  const prev = level((weekday + 6) % 7);
  const ease = (t: number) => 0.5 - 0.5 * Math.cos(Math.PI * t);
  if (into > 0.875) return here + (next - here) * ease((into - 0.875) / 0.25);
  if (into < 0.125) return prev + (here - prev) * ease((into + 0.125) / 0.25);
  return here;
}
