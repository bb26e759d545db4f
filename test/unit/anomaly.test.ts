/**
 * The traffic anomaly detector (issue #18) on deterministic synthetic minutes: each kind of alert
 * opens on its anomaly and resolves after it, while slow growth, a weekly curve, a tiny site and
 * the warm-up stay quiet; the state stays bounded. Controls show the quiet cases could alert.
 */
import { describe, expect, it } from "vitest";
import { AlertRulesSchema } from "../../core/ops/alerts.ts";
import {
  type DetectorState,
  DetectorStateSchema,
  emptySample,
  initialDetector,
  MAX_SOURCES,
  minutesToObserve,
  needsWatch,
  observeMinute,
  openAlerts,
} from "../../core/ops/anomaly.ts";
import { MINUTE_MS } from "../../core/time.ts";
import { dayCurve, run, SOURCE_SHARES, series, T0, WEEK, weekFactor } from "./anomaly-series.ts";

const rules = AlertRulesSchema.parse({});
/** Three weeks of minutes take a few seconds on a busy machine. */
const LONG = 60_000;
const kinds = (r: ReturnType<typeof run>) => r.opened.map((a) => a.kind);
/** Traffic `factor` times `base` in minutes [from, to), `base` elsewhere. */
const step = (base: number, factor: number, from: number, to: number) => (i: number) =>
  i >= from && i < to ? base * factor : base;

describe("spikes and drops", () => {
  it("opens one spike alert on the third anomalous minute and resolves it after traffic returns", () => {
    const r = run(series({ minutes: 400, rate: step(50, 5, 200, 220) }));
    expect(kinds(r)).toEqual(["spike"]);
    expect(r.openedAt).toEqual([202]);
    const [alert] = r.opened;
    expect(alert).toMatchObject({ metric: "pageviews", status: "open", subject: "", property_id: "p1" });
    expect(alert?.minute).toBe(T0 + 202 * MINUTE_MS);
    expect(alert?.observed).toBeGreaterThan(3 * (alert?.expected ?? 0));
    expect(alert?.deviation).toBeGreaterThanOrEqual(4);
    expect(alert?.message).toMatch(/^Pageviews spiked: \d+ a minute against about \d+ expected$/);

    expect(r.resolved.map((a) => a.alert_id)).toEqual([alert?.alert_id]);
    const at = r.resolvedAt[0] ?? 0;
    expect(at).toBeGreaterThanOrEqual(222);
    expect(at).toBeLessThan(230);
    expect(r.resolved[0]).toMatchObject({ status: "resolved", resolved_at: T0 + (at + 1) * MINUTE_MS });
    expect(r.state.open).toEqual({});
  });

  it.each([3, 5])("needs k = %i consecutive anomalous minutes: k − 1 do not alert", (k) => {
    const kRules = AlertRulesSchema.parse({ consecutive_minutes: k });
    expect(run(series({ minutes: 300, rate: step(50, 6, 200, 200 + k - 1) }), kRules).opened).toEqual([]);
    const tripped = run(series({ minutes: 300, rate: step(50, 6, 200, 200 + k) }), kRules);
    expect(kinds(tripped)).toEqual(["spike"]);
    expect(tripped.openedAt).toEqual([200 + k - 1]);
  });

  it("opens a drop alert when traffic falls to 15% (not a silence), and resolves it", () => {
    // 200 → 30 a minute: pageviews come in visits of 2.5 pages, so their noise is about 3.5 times Poisson's.
    const r = run(series({ minutes: 400, rate: step(200, 0.15, 200, 230) }));
    expect(kinds(r)).toEqual(["drop"]);
    expect(r.openedAt[0]).toBeGreaterThanOrEqual(202);
    expect(r.openedAt[0]).toBeLessThan(206);
    expect(r.opened[0]?.message).toMatch(/^(Pageviews|Visitors) dropped: \d+ a minute against about \d+ expected$/);
    expect(r.resolved).toHaveLength(1);
    expect(r.resolvedAt[0]).toBeGreaterThanOrEqual(232);
  });

  it("still alerts when the threshold is higher for a big spike, and not for a moderate one", () => {
    const strict = AlertRulesSchema.parse({ threshold: 12 });
    expect(run(series({ minutes: 300, rate: step(50, 3, 200, 230) }), strict).opened).toEqual([]);
    expect(kinds(run(series({ minutes: 300, rate: step(50, 3, 200, 230) })))).toEqual(["spike"]);
    expect(kinds(run(series({ minutes: 300, rate: step(50, 8, 200, 230) }), strict))).toEqual(["spike"]);
  });
});

describe("silence", () => {
  it("says tracking stopped after silence_minutes, keeps the baseline through an 8-hour outage, and resolves when traffic returns", () => {
    const samples = series({ minutes: 1000, rate: step(30, 0, 200, 680) });
    const during = run(samples.slice(0, 680));
    expect(kinds(during)).toEqual(["silence"]);
    expect(during.openedAt).toEqual([214]);
    expect(during.opened[0]?.message).toMatch(
      /^Tracking stopped: no pageviews for 15 minutes against about \d+ a minute expected$/,
    );
    expect(during.resolved).toEqual([]);
    expect(openAlerts(during.state)).toEqual(during.opened);
    // The outage did not become the new normal, so the actor keeps watching.
    expect(during.state.pageviews.level).toBeGreaterThan(25);
    expect(needsWatch(during.state, rules)).toBe(true);

    const after = run(samples.slice(680), rules, during.state);
    expect(after.opened).toEqual([]);
    expect(after.resolved.map((a) => a.kind)).toEqual(["silence"]);
    expect(after.resolvedAt[0]).toBeLessThan(690);
  });

  it("waits the configured silence window", () => {
    const r = run(
      series({ minutes: 300, rate: step(30, 0, 200, 260) }),
      AlertRulesSchema.parse({ silence_minutes: 40 }),
    );
    expect(kinds(r)).toEqual(["silence"]);
    expect(r.openedAt).toEqual([239]);
  });
});

describe("shares and sources", () => {
  it("opens a bot-share alert when bots jump from 5% to 60% of events", () => {
    const r = run(series({ minutes: 400, rate: () => 50, botShare: (i) => (i >= 200 && i < 220 ? 0.6 : 0.05) }));
    expect(kinds(r)).toEqual(["bot_share"]);
    expect(r.openedAt).toEqual([202]);
    expect(r.opened[0]).toMatchObject({ metric: "bot_share" });
    expect(r.opened[0]?.deviation).toBeGreaterThanOrEqual(0.3);
    expect(r.opened[0]?.message).toMatch(/^Bot share jumped: \d+% of events were bots against about [4-6]% usually$/);
    expect(r.resolved.map((a) => a.kind)).toEqual(["bot_share"]);
  });

  it("opens a refused alert when refusals jump from 1% to 50%, not for a 20-point rise", () => {
    const r = run(series({ minutes: 400, rate: () => 50, refusedShare: (i) => (i >= 200 && i < 220 ? 0.5 : 0.01) }));
    expect(kinds(r)).toEqual(["refused"]);
    expect(r.opened[0]).toMatchObject({ metric: "refused_share" });
    expect(r.resolved).toHaveLength(1);
    const mild = run(series({ minutes: 400, rate: () => 50, refusedShare: (i) => (i >= 200 && i < 220 ? 0.2 : 0.01) }));
    expect(mild.opened).toEqual([]);
  });

  it("names a big source that vanished while the others went on, and resolves when it comes back", () => {
    const { google: _, ...withoutGoogle } = SOURCE_SHARES;
    const r = run(
      series({ minutes: 600, rate: () => 50, sources: (i) => (i >= 300 && i < 400 ? withoutGoogle : SOURCE_SHARES) }),
    );
    expect(kinds(r)).toEqual(["source_vanished"]);
    expect(r.openedAt).toEqual([314]);
    expect(r.opened[0]).toMatchObject({ subject: "google", metric: "source" });
    expect(r.opened[0]?.message).toMatch(/^Source google stopped sending visitors: none for 15 minutes/);
    expect(r.resolved.map((a) => a.subject)).toEqual(["google"]);
    expect(r.resolvedAt[0]).toBeGreaterThanOrEqual(400);
  });

  it("does not call a small source (5% of sessions) vanished", () => {
    const { reddit: _, ...withoutReddit } = SOURCE_SHARES;
    const r = run(series({ minutes: 600, rate: () => 50, sources: (i) => (i >= 300 ? withoutReddit : SOURCE_SHARES) }));
    expect(r.opened).toEqual([]);
  });
});

describe("what must not alert", () => {
  it.each([1, 2])(
    "slow growth: +50 percent a week for three weeks (seed %i)",
    (seed) => {
      const r = run(series({ seed, minutes: 3 * WEEK, rate: (i) => 40 * 1.5 ** (i / WEEK) }));
      expect(r.opened).toEqual([]);
    },
    LONG,
  );

  it.each([1, 2])(
    "a daily and weekly curve with growth over three weeks (seed %i)",
    (seed) => {
      const rate = (i: number, m: number) => 120 * dayCurve(m) * weekFactor(m) * 1.3 ** (i / WEEK);
      expect(run(series({ seed, minutes: 3 * WEEK, rate })).opened).toEqual([]);
    },
    LONG,
  );

  it(
    "a weekly curve, yet a tripling on a Saturday morning in week three still alerts",
    () => {
      const curve = (_i: number, m: number) => 80 * dayCurve(m) * weekFactor(m);
      expect(run(series({ seed: 3, minutes: 3 * WEEK, rate: curve })).opened).toEqual([]);
      // Saturday 10:00 of week three: about 20 pageviews a minute on a quiet day.
      const at = 2 * WEEK + 5 * 1440 + 10 * 60;
      const spiked = run(series({ seed: 3, minutes: at + 60, rate: (i, m) => curve(i, m) * (i >= at ? 3 : 1) }));
      expect(kinds(spiked)).toEqual(["spike"]);
      expect(spiked.openedAt[0]).toBeLessThan(at + 5);
    },
    LONG,
  );

  it(
    "a drop after a one-off hour-long spike, or at that hour a week later (the spike was not learnt)",
    () => {
      const at = WEEK + 2 * 1440 + 14 * 60;
      const rate = (i: number, m: number) => 2000 * dayCurve(m) * weekFactor(m) * (i >= at && i < at + 60 ? 5 : 1);
      const r = run(series({ seed: 1, minutes: 3 * WEEK, rate }));
      expect(kinds(r)).toEqual(["spike"]);
      expect(r.openedAt[0]).toBe(at + 2);
    },
    LONG,
  );

  it(
    "a sharp office-hours pattern once learnt: it may alert in week one only",
    () => {
      const smooth = (t: number) => (t <= 0 ? 0 : t >= 1 ? 1 : t * t * (3 - 2 * t));
      // Weekdays: 8 a minute at night, 118 from 9:00 to 17:00, one-hour ramps; weekends 8 all day.
      const office = (i: number) => {
        const hour = (i % 1440) / 60;
        if (Math.floor(i / 1440) % 7 >= 5) return 8;
        return 8 + 110 * (smooth(hour - 8) - smooth(hour - 17));
      };
      const r = run(series({ seed: 1, minutes: 3 * WEEK, rate: office }));
      expect(r.openedAt.filter((i) => i >= WEEK)).toEqual([]);
    },
    LONG,
  );

  it("a tiny site (2 pageviews a minute) never alerts, even when it triples or goes quiet", () => {
    const rate = (i: number) => (i % 1440 >= 600 && i % 1440 < 640 ? 6 : i % 1440 >= 900 && i % 1440 < 960 ? 0 : 2);
    const r = run(series({ minutes: 3 * 1440, rate }));
    expect(r.opened).toEqual([]);
    expect(needsWatch(r.state, rules)).toBe(false);
  });

  it("the first 60 minutes (warm-up), while the same spike later alerts", () => {
    expect(run(series({ minutes: 60, rate: step(50, 6, 20, 50) })).opened).toEqual([]);
    expect(kinds(run(series({ minutes: 200, rate: step(50, 6, 120, 150) })))).toEqual(["spike"]);
  });

  it("disabled rules or kinds, while the baseline still learns", () => {
    const samples = series({ minutes: 400, rate: step(50, 5, 200, 220) });
    expect(run(samples, AlertRulesSchema.parse({ enabled: false })).opened).toEqual([]);
    const noSpikes = run(samples, AlertRulesSchema.parse({ kinds: ["drop", "silence"] }));
    expect(noSpikes.opened).toEqual([]);
    expect(noSpikes.state.pageviews.level).toBeGreaterThan(40);
  });
});

describe("the detector's state and the caller's schedule", () => {
  it(
    "stays under 32 KB after three weeks with 40 sources, keeps the top 20, and survives JSON through its schema",
    () => {
      const many = Object.fromEntries(
        Array.from({ length: 40 }, (_, n) => [`source-${n}-${"x".repeat(80)}`, 1 / (n + 1) / 4.28]),
      );
      const r = run(series({ minutes: 3 * WEEK, rate: (_i, m) => 200 * dayCurve(m), sources: () => many }));
      const json = JSON.stringify(r.state);
      expect(json.length).toBeLessThan(32 * 1024);
      expect(Object.keys(r.state.sources).length).toBeLessThanOrEqual(MAX_SOURCES);
      expect(Object.keys(r.state.sources).every((name) => name.length <= 64)).toBe(true);
      expect(DetectorStateSchema.parse(JSON.parse(json))).toEqual(r.state);
    },
    LONG,
  );

  it("ignores a minute it has already seen, so a retried step changes nothing", () => {
    const samples = series({ minutes: 205, rate: step(50, 6, 200, 210) });
    const r = run(samples.slice(0, 202));
    const last = samples[202];
    if (!last) throw new Error("no sample");
    const first = observeMinute(r.state, last, rules, "p1");
    expect(first.opened.map((a) => a.kind)).toEqual(["spike"]);
    const again = observeMinute(first.state, last, rules, "p1");
    expect(again).toEqual({ state: first.state, opened: [], resolved: [] });
    // The same minute from the same state gives the same alert id.
    expect(observeMinute(r.state, last, rules, "p1").opened[0]?.alert_id).toBe(first.opened[0]?.alert_id);
    // A state of another detector version starts afresh.
    const stale = { ...first.state, version: 1 } as unknown as DetectorState;
    expect(observeMinute(stale, { ...last, minute: last.minute + MINUTE_MS }, rules, "p1").state.seen).toBe(1);
    // A nonsense count is read as none, never poisoning the state with NaN.
    const bad = observeMinute(
      first.state,
      { ...last, minute: last.minute + MINUTE_MS, pageviews: Number.NaN },
      rules,
      "p1",
    );
    expect(Number.isFinite(bad.state.pageviews.level)).toBe(true);
  });

  it("lists the closed minutes to feed: late events wait two minutes, at most 60, none twice", () => {
    const now = T0 + 10 * MINUTE_MS + 30_000;
    const m = (n: number) => T0 + n * MINUTE_MS;
    expect(minutesToObserve(null, now)).toEqual([m(7)]);
    expect(minutesToObserve(m(3), now)).toEqual([m(4), m(5), m(6), m(7)]);
    expect(minutesToObserve(m(7), now)).toEqual([]);
    expect(minutesToObserve(m(3), now, 0)).toEqual([m(4), m(5), m(6), m(7), m(8), m(9)]);
    const afterGap = minutesToObserve(m(3), now + 5 * 60 * MINUTE_MS);
    expect(afterGap).toHaveLength(60);
    expect(afterGap.at(-1)).toBe(m(307));
    expect(afterGap[0]).toBe(m(248));
  });

  it("watches a busy site for silence but not a quiet or unwatched one", () => {
    const busy = run(series({ minutes: 120, rate: () => 30 })).state;
    expect(needsWatch(busy, rules)).toBe(true);
    expect(needsWatch(busy, AlertRulesSchema.parse({ kinds: ["spike", "drop"] }))).toBe(false);
    expect(needsWatch(busy, AlertRulesSchema.parse({ min_pageviews_per_minute: 100 }))).toBe(false);
    expect(needsWatch(run(series({ minutes: 30, rate: () => 30 })).state, rules)).toBe(false);
    expect(needsWatch(initialDetector(), rules)).toBe(false);
    expect(emptySample(T0)).toEqual({
      minute: T0,
      pageviews: 0,
      visitors: 0,
      events: 0,
      bot_events: 0,
      refused: 0,
      sources: {},
    });
  });
});
