/**
 * Per-property traffic anomaly detection (issue #18), fed one closed minute at a time by the
 * PropertyDO: spikes and drops of pageviews or visitors against a seasonal baseline
 * (anomaly-baseline.ts), silence, jumps in the bot and refused shares, and a big source vanishing.
 * Pure: the state is a bounded JSON object (one Durable Object key), every alert is deterministic.
 */
import { z } from "zod";
import { MINUTE_MS } from "../time.ts";
import { type Alert, type AlertKind, type AlertMetric, type AlertRules, AlertSchema, alertId } from "./alerts.ts";
import { type Baseline, BaselineSchema, type Expectation, expect, initialBaseline, learn } from "./anomaly-baseline.ts";

/** What the PropertyDO counted in one minute. */
export interface MinuteSample {
  minute: number;
  pageviews: number;
  visitors: number;
  /** Accepted events that are not bots. */
  events: number;
  bot_events: number;
  refused: number;
  /** Sessions started this minute, by source. */
  sources: Record<string, number>;
}

export const WARMUP_MINUTES = 60;
/** A share is judged only in minutes with at least this many events. */
export const MIN_SHARE_EVENTS = 20;
/** A source "vanishes" only if it would have brought this many sessions while absent (e^-15: not chance). */
export const MIN_VANISHED_SESSIONS = 15;
export const MAX_SOURCES = 20;
/** Sessions (about) behind the source shares before a source may be called vanished. */
export const MIN_SHARE_SESSIONS = 100;
/** How much an anomalous minute still teaches the baseline (a lasting change is learnt within a day). */
const ANOMALY_WEIGHT = 0.05;
const SHARE_ALPHA = 1 / 60;
const SOURCE_ALPHA = 1 / 120;
const MAX_SOURCE_NAME = 64;
const MAX_GAP_MINUTES = 60;

const ShareSchema = z.object({ part: z.number(), total: z.number() });
const SourceSchema = z.object({
  /** EWMA sessions a minute. */
  rate: z.number(),
  /** Its share of all sessions, as of its last minute present. */
  share: z.number(),
  /** Minutes absent in a row. */
  gone: z.number(),
  /** Sessions the other sources brought while it was absent. */
  others: z.number(),
  /** Sessions since it came back while its alert is open. */
  back: z.number(),
});

export const DetectorStateSchema = z.object({
  version: z.literal(1),
  last_minute: z.number().nullable(),
  /** Minutes observed so far. */
  seen: z.number(),
  pageviews: BaselineSchema,
  visitors: BaselineSchema,
  bot: ShareSchema,
  refused: ShareSchema,
  /** EWMA of all sessions started a minute. */
  sessions: z.number(),
  sources: z.record(z.string(), SourceSchema),
  /** Consecutive minutes toward opening (no alert open) or resolving (alert open), by alert key. */
  streaks: z.record(z.string(), z.number()),
  /** Open alerts by key: the kind, or `source_vanished:<source>`. */
  open: z.record(z.string(), AlertSchema),
});
export type DetectorState = z.infer<typeof DetectorStateSchema>;

export function initialDetector(): DetectorState {
  return {
    version: 1,
    last_minute: null,
    seen: 0,
    pageviews: initialBaseline(),
    visitors: initialBaseline(),
    bot: { part: 0, total: 0 },
    refused: { part: 0, total: 0 },
    sessions: 0,
    sources: {},
    streaks: {},
    open: {},
  };
}

/** A minute with nothing in it (the caller fills quiet minutes with these). */
export function emptySample(minute: number): MinuteSample {
  return { minute, pageviews: 0, visitors: 0, events: 0, bot_events: 0, refused: 0, sources: {} };
}

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

/** How one minute looks for one alert key. `skip` leaves the streak as it is (too little data to judge). */
type Verdict = "anomalous" | "normal" | "between" | "skip";

interface Step {
  state: DetectorState;
  opened: Alert[];
  resolved: Alert[];
}

function classify(anomalous: boolean, normal: boolean): Verdict {
  if (anomalous) return "anomalous";
  return normal ? "normal" : "between";
}

/** Advances one key's streak; opens or resolves its alert when the streak is long enough. */
function advance(
  step: Step,
  key: string,
  verdict: Verdict,
  need: number,
  resolveAfter: number,
  canOpen: boolean,
  make: () => Alert,
): void {
  const { state } = step;
  const open = state.open[key];
  const streak = state.streaks[key] ?? 0;
  let next = streak;
  if (verdict !== "skip") {
    const counts = open ? verdict === "normal" : verdict === "anomalous";
    next = counts ? streak + 1 : 0;
  }
  if (open && next >= resolveAfter) {
    const end = (state.last_minute ?? open.minute) + MINUTE_MS;
    step.resolved.push({ ...open, status: "resolved", resolved_at: end });
    delete state.open[key];
    next = 0;
  } else if (!open && next >= need && canOpen) {
    const alert = make();
    state.open[key] = alert;
    step.opened.push(alert);
    next = 0;
  } else if (!open && next >= need) {
    next = need; // Not allowed to open (warm-up, disabled kind): stay ready without growing.
  }
  if (next !== 0) state.streaks[key] = next;
  else if (streak !== 0) delete state.streaks[key];
}

const fmt = (n: number) => (Math.abs(n) >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10));
const pct = (share: number) => `${Math.round(share * 100)}%`;
const NOUNS: Record<"pageviews" | "visitors", string> = { pageviews: "Pageviews", visitors: "Visitors" };

function makeAlert(
  propertyId: string,
  kind: AlertKind,
  metric: AlertMetric,
  subject: string,
  minute: number,
  observed: number,
  expected: number,
  deviation: number,
  message: string,
): Alert {
  return {
    alert_id: alertId(propertyId, kind, subject, minute),
    property_id: propertyId,
    kind,
    metric,
    subject,
    status: "open",
    opened_at: minute + MINUTE_MS,
    resolved_at: null,
    minute,
    observed,
    expected: Math.round(expected * 1000) / 1000,
    deviation: Math.round(deviation * 1000) / 1000,
    message,
  };
}

interface CountReading {
  metric: "pageviews" | "visitors";
  x: number;
  at: Expectation;
}

/** Spikes, drops and silence from pageviews and visitors; returns how much each reading should teach. */
function countAlerts(step: Step, sample: MinuteSample, readings: CountReading[], ctx: Context): number {
  const { rules } = ctx;
  const threshold = rules.threshold;
  const [pv] = readings;
  if (!pv) return 1;
  const guard = pv.at.expected >= rules.min_pageviews_per_minute;
  const silent = guard && sample.pageviews === 0;
  const strongest = (sign: 1 | -1) => readings.reduce((best, r) => (sign * r.at.z > sign * best.at.z ? r : best), pv);

  // Pageviews name the alert when they tripped it; visitors only when they alone did.
  const up = pv.at.z >= threshold ? pv : strongest(1);
  advance(
    step,
    "spike",
    classify(guard && up.at.z >= threshold, !guard || up.at.z < threshold / 2),
    rules.consecutive_minutes,
    rules.consecutive_minutes,
    ctx.canOpen("spike"),
    () =>
      makeAlert(
        ctx.propertyId,
        "spike",
        up.metric,
        "",
        sample.minute,
        up.x,
        up.at.expected,
        up.at.z,
        `${NOUNS[up.metric]} spiked: ${fmt(up.x)} a minute against about ${fmt(up.at.expected)} expected`,
      ),
  );
  const down = pv.at.z <= -threshold ? pv : strongest(-1);
  advance(
    step,
    "drop",
    // A minute with no pageviews at all is silence's to judge, not a drop's.
    classify(guard && sample.pageviews > 0 && down.at.z <= -threshold, !guard || down.at.z > -threshold / 2),
    rules.consecutive_minutes,
    rules.consecutive_minutes,
    ctx.canOpen("drop"),
    () =>
      makeAlert(
        ctx.propertyId,
        "drop",
        down.metric,
        "",
        sample.minute,
        down.x,
        down.at.expected,
        down.at.z,
        `${NOUNS[down.metric]} dropped: ${fmt(down.x)} a minute against about ${fmt(down.at.expected)} expected`,
      ),
  );
  advance(
    step,
    "silence",
    classify(silent, sample.pageviews > 0),
    rules.silence_minutes,
    rules.consecutive_minutes,
    ctx.canOpen("silence"),
    () =>
      makeAlert(
        ctx.propertyId,
        "silence",
        "pageviews",
        "",
        sample.minute,
        0,
        pv.at.expected,
        rules.silence_minutes,
        `Tracking stopped: no pageviews for ${rules.silence_minutes} minutes against about ${fmt(pv.at.expected)} a minute expected`,
      ),
  );
  const { open } = step.state;
  if (silent || open.silence) return sample.pageviews === 0 ? 0 : ANOMALY_WEIGHT;
  return open.spike || open.drop ? ANOMALY_WEIGHT : 1;
}

interface Context {
  propertyId: string;
  /** Past warm-up: before it there is no baseline to protect, so every minute teaches fully. */
  warm: boolean;
  rules: AlertRules;
  canOpen: (kind: AlertKind) => boolean;
}

/** A share's jump (bot or refused) against its own EWMA; returns the share's next baseline. */
function shareAlert(
  step: Step,
  kind: "bot_share" | "refused",
  part: number,
  total: number,
  base: { part: number; total: number },
  jump: number,
  ctx: Context,
  minute: number,
): { part: number; total: number } {
  const expected = base.total > 0 ? base.part / base.total : 0;
  const judged = total >= MIN_SHARE_EVENTS && base.total > 0;
  const share = total > 0 ? part / total : 0;
  const delta = share - expected;
  const metric = kind === "bot_share" ? "bot_share" : "refused_share";
  advance(
    step,
    kind,
    judged ? classify(delta >= jump, delta < jump / 2) : "skip",
    ctx.rules.consecutive_minutes,
    ctx.rules.consecutive_minutes,
    ctx.canOpen(kind),
    () =>
      makeAlert(
        ctx.propertyId,
        kind,
        metric,
        "",
        minute,
        Math.round(share * 1000) / 1000,
        expected,
        delta,
        kind === "bot_share"
          ? `Bot share jumped: ${pct(share)} of events were bots against about ${pct(expected)} usually`
          : `Refused events jumped: ${pct(share)} of events were refused against about ${pct(expected)} usually`,
      ),
  );
  const anomalous = judged && delta >= jump / 2;
  const weight = ctx.warm && (anomalous || step.state.open[kind]) ? ANOMALY_WEIGHT : 1;
  const learnt = expected * total + weight * (part - expected * total);
  const alpha = Math.max(SHARE_ALPHA, 1 / (step.state.seen + 1));
  return { part: base.part + alpha * (learnt - base.part), total: base.total + alpha * (total - base.total) };
}

/**
 * Big sources that stopped sending sessions for the silence window while the others went on: what
 * the source would have brought is judged from the sessions the others brought meanwhile, so a
 * quiet night or a whole-site outage is not a vanished source. Bounded to the top MAX_SOURCES.
 */
function sourceAlerts(step: Step, sample: MinuteSample, silent: boolean, ctx: Context): void {
  const { state } = step;
  const { rules } = ctx;
  const alpha = Math.max(SOURCE_ALPHA, 1 / (state.seen + 1));
  const counts = new Map<string, number>();
  for (const [name, n] of Object.entries(sample.sources)) {
    const key = name.slice(0, MAX_SOURCE_NAME);
    if (Number.isFinite(n) && n > 0) counts.set(key, (counts.get(key) ?? 0) + n);
  }
  let total = 0;
  for (const n of counts.values()) total += n;
  const sessions = silent ? state.sessions : state.sessions + alpha * (total - state.sessions);
  // Shares read from fewer sessions than this are too rough to call a source big.
  const known = state.sessions * Math.min(state.seen, 1 / SOURCE_ALPHA) >= MIN_SHARE_SESSIONS;

  // Alert keys are built only for sources with an open alert or one to open: this loop runs every minute.
  const openNames = new Set<string>();
  for (const alert of Object.values(state.open)) if (alert.kind === "source_vanished") openNames.add(alert.subject);
  const sources: DetectorState["sources"] = {};
  for (const name of new Set([...Object.keys(state.sources), ...counts.keys()])) {
    const open = openNames.has(name);
    const c = counts.get(name) ?? 0;
    let { rate, share, gone, others, back } = state.sources[name] ?? { rate: 0, share: 0, gone: 0, others: 0, back: 0 };
    if (c > 0) {
      // From the averages before this minute: a share read just after a rare session would be too high.
      if (!open) share = state.sessions > 0 ? Math.min(rate / state.sessions, 1) : 0;
      back = open ? back + c : 0;
      gone = 0;
      others = 0;
    } else {
      gone += 1;
      others += total;
    }
    if (!open && !silent) rate += alpha * (c - rate);
    // Sessions the source would have brought while the others brought `others`.
    const missed = (others * share) / Math.max(1 - share, 0.05);
    const key = open || gone >= rules.silence_minutes ? `source_vanished:${name}` : "";
    const alert = open ? state.open[key] : undefined;
    if (alert && back >= Math.max(1, 0.5 * rate * rules.consecutive_minutes)) {
      step.resolved.push({ ...alert, status: "resolved", resolved_at: sample.minute + MINUTE_MS });
      delete state.open[key];
      openNames.delete(name);
      back = 0;
    } else if (
      !open &&
      known &&
      gone >= rules.silence_minutes &&
      share >= rules.source_min_share &&
      missed >= MIN_VANISHED_SESSIONS &&
      ctx.canOpen("source_vanished")
    ) {
      const opened = makeAlert(
        ctx.propertyId,
        "source_vanished",
        "source",
        name,
        sample.minute,
        0,
        missed,
        share,
        `Source ${name} stopped sending visitors: none for ${gone} minutes, about ${fmt(missed)} sessions expected (it usually brings ${pct(share)} of them)`,
      );
      state.open[key] = opened;
      step.opened.push(opened);
      openNames.add(name);
    }
    sources[name] = { rate, share, gone, others, back };
  }
  // Keep sources with an open alert, then the busiest; forget the rest.
  const rank = (name: string, rate: number) => (openNames.has(name) ? 1e12 : rate);
  let kept = Object.entries(sources).filter(([name, s]) => s.rate >= 0.001 || openNames.has(name));
  if (kept.length > MAX_SOURCES) {
    kept = kept.sort(([a, x], [b, y]) => rank(b, y.rate) - rank(a, x.rate)).slice(0, MAX_SOURCES);
  }
  state.sources = Object.fromEntries(kept);
  state.sessions = sessions;
}

/**
 * Feeds one closed minute (minutes in order; a minute at or before the last one is ignored, so a
 * retried step changes nothing). Returns the next state and the alerts opened and resolved by it.
 */
export function observeMinute(
  previous: DetectorState,
  sample: MinuteSample,
  rules: AlertRules,
  propertyId: string,
): { state: DetectorState; opened: Alert[]; resolved: Alert[] } {
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
    state[r.metric] = learn(baselines[r.metric], sample.minute, r.x, r.at, own, previous.seen);
  }

  const accepted = sample.events + sample.bot_events;
  state.bot = shareAlert(
    step,
    "bot_share",
    sample.bot_events,
    accepted,
    previous.bot,
    rules.bot_share_jump,
    ctx,
    sample.minute,
  );
  state.refused = shareAlert(
    step,
    "refused",
    sample.refused,
    accepted + sample.refused,
    previous.refused,
    rules.refused_share_jump,
    ctx,
    sample.minute,
  );
  sourceAlerts(step, sample, weight === 0, ctx);
  state.seen = previous.seen + 1;
  return step;
}
