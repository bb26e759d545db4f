/**
 * The per-minute baseline of one count (pageviews or visitors) for the anomaly detector: an EWMA
 * level for the first week, then an hour-of-week profile scaled by a recent growth ratio, so a
 * weekly pattern and slow growth are expected rather than alerted. Pure and JSON-serializable.
 *
 * - level: EWMA of the per-minute count (about the last half hour).
 * - dispersion: EWMA of residual² / expected, the variance as a multiple of Poisson's (at least 1):
 *   about the pages per visit for pageviews, so noise scales from quiet nights to busy afternoons.
 * - profile: 168 hour-of-week means of the per-minute count (−1 = not seen), each blended with the
 *   same hour's mean of the next week; interpolated between hour centres when read.
 * - ratio_num / ratio_den: EWMAs (about 3 h) of the counts and of the profile's predictions for
 *   them; their quotient scales last week's profile to this week's level (growth, or a bad week).
 */
import { z } from "zod";
import { HOUR_MS } from "../time.ts";

export const WEEK_HOURS = 168;
export const WEEK_MINUTES = WEEK_HOURS * 60;
const LEVEL_ALPHA = 1 / 30;
const DISPERSION_ALPHA = 1 / 120;
const RATIO_ALPHA = 1 / 180;
/** Weight of the newest week in an hour's profile value. */
const PROFILE_BLEND = 0.6;

export const BaselineSchema = z.object({
  level: z.number(),
  dispersion: z.number(),
  profile: z.array(z.number()).length(WEEK_HOURS),
  /** The hour being summed: [hour of week, sum, minutes]. */
  hour: z.tuple([z.number(), z.number(), z.number()]),
  ratio_num: z.number(),
  ratio_den: z.number(),
});
export type Baseline = z.infer<typeof BaselineSchema>;

export function initialBaseline(): Baseline {
  return {
    level: 0,
    dispersion: 1,
    profile: Array.from({ length: WEEK_HOURS }, () => -1),
    hour: [-1, 0, 0],
    ratio_num: 0,
    ratio_den: 0,
  };
}

/** A minute's hour of the week (UTC hours since the epoch, modulo a week: a fixed, consistent phase). */
export function hourOfWeek(minute: number): number {
  return Math.floor(minute / HOUR_MS) % WEEK_HOURS;
}

/** Last week(s) at this minute, interpolated between the two nearest hour centres; null when either is unseen. */
function profileAt(baseline: Baseline, minute: number): number | null {
  const position = (((minute + 30_000) / HOUR_MS) % WEEK_HOURS) - 0.5;
  const lower = Math.floor(position);
  const fraction = position - lower;
  const a = baseline.profile[(lower + WEEK_HOURS) % WEEK_HOURS] ?? -1;
  const b = baseline.profile[(lower + 1) % WEEK_HOURS] ?? -1;
  if (a < 0 || b < 0) return null;
  return a * (1 - fraction) + b * fraction;
}

/** What this minute should hold, and how far off x is (a Poisson-aware z-score). */
export interface Expectation {
  expected: number;
  /** The noise expected around it: Poisson's (variance = mean) times the dispersion; +1 keeps near-zero means calm. */
  sd: number;
  z: number;
  /** The profile's value here (before scaling), when it has one. */
  profile: number | null;
}

/** The expectation for `minute`; the profile is used once `seen` covers a week. */
export function expect(baseline: Baseline, minute: number, x: number, seen: number): Expectation {
  const profile = profileAt(baseline, minute);
  const seasonal = seen >= WEEK_MINUTES && profile !== null && baseline.ratio_den > 0;
  const expected = seasonal ? (profile * (baseline.ratio_num + 1)) / (baseline.ratio_den + 1) : baseline.level;
  const sd = Math.sqrt(Math.max(baseline.dispersion, 1) * expected + 1);
  return { expected, sd, z: (x - expected) / sd, profile };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/**
 * Learns from one minute. For the level and the growth ratio, `weight` 1 takes x as it is, 0 ignores
 * it (the expected value is learnt in its place), between down-weights it: an anomaly does not
 * become the baseline it is measured against. The weekly profile takes x clipped to `band` noise
 * widths of the expectation instead (nothing at weight 0): a one-off spike barely moves next week,
 * while a pattern the first week's level could not follow (a sharp office-hours ramp, which alerts
 * then) is still learnt, rather than kept out by its own alerts forever.
 */
export function learn(
  baseline: Baseline,
  minute: number,
  x: number,
  at: Expectation,
  weight: number,
  seen: number,
  band: number,
): Baseline {
  const value = at.expected + weight * (x - at.expected);
  const reach = band * at.sd;
  const seasonal = weight === 0 ? at.expected : Math.min(Math.max(x, at.expected - reach), at.expected + reach);
  const warm = 1 / (seen + 1);
  const level = baseline.level + Math.max(LEVEL_ALPHA, warm) * (value - baseline.level);
  const residual = x - at.expected;
  const ratio = Math.min((residual * residual) / (at.expected + 1), 100);
  const dispersion =
    weight === 1
      ? baseline.dispersion + Math.max(DISPERSION_ALPHA, warm) * (ratio - baseline.dispersion)
      : baseline.dispersion;

  const bucket = hourOfWeek(minute);
  let profile = baseline.profile;
  let hour = baseline.hour;
  if (hour[0] !== bucket) {
    const [done, sum, minutes] = hour;
    if (done >= 0 && minutes > 0) {
      const mean = sum / minutes;
      const before = profile[done] ?? -1;
      profile = profile.slice();
      profile[done] = round(before < 0 ? mean : before + PROFILE_BLEND * (mean - before));
    }
    hour = [bucket, 0, 0];
  }
  hour = [bucket, hour[1] + seasonal, hour[2] + 1];

  let { ratio_num, ratio_den } = baseline;
  if (at.profile !== null) {
    if (ratio_den <= 0) {
      // First minute with a week behind it: start from the recent level against last week's value.
      ratio_num = level;
      ratio_den = at.profile;
    } else if (weight === 1) {
      // Frozen through anomalies: a spike's hour must not lift the hours after it (a false drop then);
      // a lasting change reaches the expectation through the profile instead.
      ratio_num += RATIO_ALPHA * (value - ratio_num);
      ratio_den += RATIO_ALPHA * (at.profile - ratio_den);
    }
  }
  return { level, dispersion, profile, hour, ratio_num, ratio_den };
}
