/**
 * The anomaly detector's checks (issue #18), one per alert kind: each reads one minute against the
 * state, opens an alert after a streak of anomalous minutes and resolves it after a streak of
 * normal ones (a band of half the threshold in between counts for neither, so alerts do not flap).
 */
import { MINUTE_MS } from "../time.ts";
import { type Alert, type AlertKind, type AlertMetric, type AlertRules, alertId } from "./alerts.ts";
import type { Expectation } from "./anomaly-baseline.ts";
import { type DetectorState, MAX_SOURCE_NAME, MAX_SOURCES, type MinuteSample, type Share } from "./anomaly-state.ts";

/** A share is judged only in minutes with at least this many events. */
export const MIN_SHARE_EVENTS = 20;
/** A source "vanishes" only if it would have brought this many sessions while absent (e^-15: not chance). */
export const MIN_VANISHED_SESSIONS = 15;
/** Sessions (about) behind the source shares before a source may be called vanished. */
export const MIN_SHARE_SESSIONS = 100;
/** How much an anomalous minute still teaches a baseline (a lasting change is learnt within a day). */
export const ANOMALY_WEIGHT = 0.05;
const SHARE_ALPHA = 1 / 60;
const SOURCE_ALPHA = 1 / 120;

/** One minute's work in progress: the state being built and the alerts it opened and resolved. */
export interface Step {
  state: DetectorState;
  opened: Alert[];
  resolved: Alert[];
}

export interface Context {
  propertyId: string;
  minute: number;
  /** Past warm-up: before it there is no baseline to protect, so every minute teaches fully. */
  warm: boolean;
  rules: AlertRules;
  canOpen: (kind: AlertKind) => boolean;
}

/** One count (pageviews or visitors) in this minute and what its baseline expected. */
export interface CountReading {
  metric: "pageviews" | "visitors";
  x: number;
  at: Expectation;
}

/** How one minute looks for one alert key. `skip` leaves the streak as it is (too little data to judge). */
type Verdict = "anomalous" | "normal" | "between" | "skip";

function classify(anomalous: boolean, normal: boolean): Verdict {
  if (anomalous) return "anomalous";
  return normal ? "normal" : "between";
}

/**
 * Advances one key's streak: opens its alert after `need` anomalous minutes (when `make` is given,
 * i.e. the kind may open), resolves an open one after `resolveAfter` normal minutes.
 */
function advance(
  step: Step,
  key: string,
  verdict: Verdict,
  need: number,
  resolveAfter: number,
  make: (() => Alert) | null,
): void {
  const { state } = step;
  const open = state.open[key];
  const streak = state.streaks[key] ?? 0;
  let next = streak;
  if (verdict !== "skip") next = (open ? verdict === "normal" : verdict === "anomalous") ? streak + 1 : 0;
  if (open && next >= resolveAfter) {
    step.resolved.push({ ...open, status: "resolved", resolved_at: (state.last_minute ?? open.minute) + MINUTE_MS });
    delete state.open[key];
    next = 0;
  } else if (!open && next >= need) {
    if (make) {
      const alert = make();
      state.open[key] = alert;
      step.opened.push(alert);
    }
    // Not allowed to open (warm-up, a disabled kind): stay ready without growing.
    next = make ? 0 : need;
  }
  if (next !== 0) state.streaks[key] = next;
  else if (streak !== 0) delete state.streaks[key];
}

const fmt = (n: number) => (Math.abs(n) >= 10 ? String(Math.round(n)) : String(Math.round(n * 10) / 10));
const pct = (share: number) => `${Math.round(share * 100)}%`;
const round3 = (n: number) => Math.round(n * 1000) / 1000;
const NOUNS = { pageviews: "Pageviews", visitors: "Visitors" } as const;

interface Finding {
  kind: AlertKind;
  metric: AlertMetric;
  subject?: string;
  observed: number;
  expected: number;
  deviation: number;
  message: string;
}

/** An open alert for this minute; its id and times follow from the minute, so a retry agrees. */
function makeAlert(ctx: Context, f: Finding): Alert {
  const subject = f.subject ?? "";
  return {
    alert_id: alertId(ctx.propertyId, f.kind, subject, ctx.minute),
    property_id: ctx.propertyId,
    kind: f.kind,
    metric: f.metric,
    subject,
    status: "open",
    opened_at: ctx.minute + MINUTE_MS,
    resolved_at: null,
    minute: ctx.minute,
    observed: round3(f.observed),
    expected: round3(f.expected),
    deviation: round3(f.deviation),
    message: f.message,
  };
}

/** The alert maker when this kind may open now, else null. */
function maker(ctx: Context, kind: AlertKind, f: () => Finding): (() => Alert) | null {
  return ctx.canOpen(kind) ? () => makeAlert(ctx, f()) : null;
}

/**
 * Spikes, drops and silence from pageviews and visitors. Returns how much this minute may teach the
 * counts' baselines: 0 in silence (an outage must not become normal), little while an alert is open.
 */
export function countAlerts(step: Step, sample: MinuteSample, readings: CountReading[], ctx: Context): number {
  const { rules } = ctx;
  const { threshold, consecutive_minutes: k } = rules;
  const [pv] = readings;
  if (!pv) return 1;
  const guard = pv.at.expected >= rules.min_pageviews_per_minute;
  const silent = guard && sample.pageviews === 0;
  const strongest = (sign: 1 | -1) => readings.reduce((best, r) => (sign * r.at.z > sign * best.at.z ? r : best), pv);
  const finding = (kind: "spike" | "drop", r: CountReading, verb: string): Finding => ({
    kind,
    metric: r.metric,
    observed: r.x,
    expected: r.at.expected,
    deviation: r.at.z,
    message: `${NOUNS[r.metric]} ${verb}: ${fmt(r.x)} a minute against about ${fmt(r.at.expected)} expected`,
  });

  // Pageviews name the alert when they tripped it; visitors only when they alone did.
  const up = pv.at.z >= threshold ? pv : strongest(1);
  const spiking = guard && up.at.z >= threshold;
  advance(
    step,
    "spike",
    classify(spiking, !guard || up.at.z < threshold / 2),
    k,
    k,
    maker(ctx, "spike", () => finding("spike", up, "spiked")),
  );

  const down = pv.at.z <= -threshold ? pv : strongest(-1);
  // A minute with no pageviews at all is silence's to judge, not a drop's.
  const dropping = guard && sample.pageviews > 0 && down.at.z <= -threshold;
  advance(
    step,
    "drop",
    classify(dropping, !guard || down.at.z > -threshold / 2),
    k,
    k,
    maker(ctx, "drop", () => finding("drop", down, "dropped")),
  );

  advance(
    step,
    "silence",
    classify(silent, sample.pageviews > 0),
    rules.silence_minutes,
    k,
    maker(ctx, "silence", () => ({
      kind: "silence",
      metric: "pageviews",
      observed: 0,
      expected: pv.at.expected,
      deviation: rules.silence_minutes,
      message: `Tracking stopped: no pageviews for ${rules.silence_minutes} minutes against about ${fmt(pv.at.expected)} a minute expected`,
    })),
  );

  const { open } = step.state;
  if (silent || open.silence) return sample.pageviews === 0 ? 0 : ANOMALY_WEIGHT;
  return open.spike || open.drop ? ANOMALY_WEIGHT : 1;
}

/** A share's jump (bot or refused) against its own EWMA; returns the share's next baseline. */
export function shareAlert(
  step: Step,
  kind: "bot_share" | "refused",
  counts: { part: number; total: number },
  base: Share,
  jump: number,
  ctx: Context,
): Share {
  const { part, total } = counts;
  const expected = base.total > 0 ? base.part / base.total : 0;
  const judged = total >= MIN_SHARE_EVENTS && base.total > 0;
  const share = total > 0 ? part / total : 0;
  const delta = share - expected;
  const k = ctx.rules.consecutive_minutes;
  advance(
    step,
    kind,
    judged ? classify(delta >= jump, delta < jump / 2) : "skip",
    k,
    k,
    maker(ctx, kind, () => ({
      kind,
      metric: kind === "bot_share" ? "bot_share" : "refused_share",
      observed: share,
      expected,
      deviation: delta,
      message:
        kind === "bot_share"
          ? `Bot share jumped: ${pct(share)} of events were bots against about ${pct(expected)} usually`
          : `Refused events jumped: ${pct(share)} of events were refused against about ${pct(expected)} usually`,
    })),
  );
  const anomalous = judged && delta >= jump / 2;
  const weight = ctx.warm && (anomalous || step.state.open[kind]) ? ANOMALY_WEIGHT : 1;
  const learnt = expected * total + weight * (part - expected * total);
  const alpha = Math.max(SHARE_ALPHA, 1 / (step.state.seen + 1));
  return { part: base.part + alpha * (learnt - base.part), total: base.total + alpha * (total - base.total) };
}

/** This minute's sessions by source (names cut to MAX_SOURCE_NAME; nonsense counts dropped). */
function sessionsBySource(sample: MinuteSample): Map<string, number> {
  const counts = new Map<string, number>();
  for (const [name, n] of Object.entries(sample.sources)) {
    const key = name.slice(0, MAX_SOURCE_NAME);
    if (Number.isFinite(n) && n > 0) counts.set(key, (counts.get(key) ?? 0) + n);
  }
  return counts;
}

/**
 * Big sources that stopped sending sessions for the silence window while the others went on: what
 * the source would have brought is judged from the sessions the others brought meanwhile, so a
 * quiet night or a whole-site outage is not a vanished source. Bounded to the top MAX_SOURCES.
 */
export function sourceAlerts(step: Step, sample: MinuteSample, silent: boolean, ctx: Context): void {
  const { state } = step;
  const { rules } = ctx;
  const alpha = Math.max(SOURCE_ALPHA, 1 / (state.seen + 1));
  const counts = sessionsBySource(sample);
  let total = 0;
  for (const n of counts.values()) total += n;
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
      step.resolved.push({ ...alert, status: "resolved", resolved_at: ctx.minute + MINUTE_MS });
      delete state.open[key];
      openNames.delete(name);
      back = 0;
    } else if (!open && known && gone >= rules.silence_minutes && share >= rules.source_min_share) {
      const make =
        missed >= MIN_VANISHED_SESSIONS
          ? maker(ctx, "source_vanished", () => ({
              kind: "source_vanished",
              metric: "source",
              subject: name,
              observed: 0,
              expected: missed,
              deviation: share,
              message: `Source ${name} stopped sending visitors: none for ${gone} minutes, about ${fmt(missed)} sessions expected (it usually brings ${pct(share)} of them)`,
            }))
          : null;
      if (make) {
        const opened = make();
        state.open[key] = opened;
        step.opened.push(opened);
        openNames.add(name);
      }
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
  if (!silent) state.sessions += alpha * (total - state.sessions);
}
