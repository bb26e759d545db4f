/**
 * The Operations and Alerts pages' arithmetic, without a browser: the metrics answer summed per
 * minute over label sets, latency merged towards the slowest set, cache hit ratios, the board's
 * tiles, the alert list's order and durations, the API's field errors mapped to form fields, and
 * the navigation (Operations only for the admin, number keys 1–9 then 0).
 */
import { describe, expect, it } from "vitest";
import {
  alertDuration,
  fieldErrors,
  orderAlerts,
  type ShownAlert,
} from "../../web/dashboard/src/modules/alerts/model.ts";
import { buildBoard, regions } from "../../web/dashboard/src/modules/operations/board.ts";
import {
  cacheLayers,
  cacheRatioPerMinute,
  counterBy,
  counterPerMinute,
  formatMs,
  minuteAxis,
  type OpsMetrics,
  timingPerMinute,
  timingSummary,
} from "../../web/dashboard/src/modules/operations/metrics.ts";
import { mayView, shortcutKey, VIEWS, viewsFor } from "../../web/dashboard/src/url-state.ts";

const T0 = Date.parse("2026-12-02T10:00:00Z");
const minute = (i: number) => new Date(T0 + i * 60_000).toISOString();

function metrics(): OpsMetrics {
  return {
    generated_at: minute(4),
    from: minute(0),
    to: minute(4),
    minutes: 5,
    counters: [
      {
        name: "events_accepted",
        help: "",
        labels: { route: "collect" },
        total: 7,
        per_minute: [
          { minute: minute(0), value: 3 },
          { minute: minute(2), value: 4 },
        ],
      },
      {
        name: "events_accepted",
        help: "",
        labels: { route: "mp" },
        total: 2,
        per_minute: [{ minute: minute(2), value: 2 }],
      },
      {
        name: "events_refused",
        help: "",
        labels: { reason: "validation" },
        total: 1,
        per_minute: [{ minute: minute(1), value: 1 }],
      },
      {
        name: "cache_lookups",
        help: "",
        labels: { layer: "query", result: "hit" },
        total: 3,
        per_minute: [{ minute: minute(3), value: 3 }],
      },
      {
        name: "cache_lookups",
        help: "",
        labels: { layer: "query", result: "miss" },
        total: 1,
        per_minute: [{ minute: minute(3), value: 1 }],
      },
      {
        name: "cache_lookups",
        help: "",
        labels: { layer: "property", result: "miss" },
        total: 2,
        per_minute: [{ minute: minute(4), value: 2 }],
      },
      { name: "events_by_location", help: "", labels: { colo: "FRA", country: "DE" }, total: 5, per_minute: [] },
      { name: "events_by_location", help: "", labels: { colo: "AMS", country: "DE" }, total: 2, per_minute: [] },
      { name: "events_by_location", help: "", labels: { colo: "AMS", country: "NL" }, total: 4, per_minute: [] },
    ],
    timings: [
      {
        name: "clickhouse_ms",
        help: "",
        labels: { op: "insert" },
        count: 10,
        sum: 300,
        p50: 20,
        p95: 80,
        p99: 95,
        max: 120,
        per_minute: [{ minute: minute(1), count: 10, p50: 20, p95: 80 }],
      },
      {
        name: "clickhouse_ms",
        help: "",
        labels: { op: "query" },
        count: 4,
        sum: 150,
        p50: 35,
        p95: 60,
        p99: 70,
        max: 75,
        per_minute: [
          { minute: minute(1), count: 2, p50: 35, p95: 60 },
          { minute: minute(3), count: 2, p50: 30, p95: 50 },
        ],
      },
    ],
    gauges: [{ name: "live_viewers", help: "", labels: {}, value: 2 }],
  };
}

describe("operations metrics", () => {
  it("spans the window minute by minute and sums a counter's label sets per minute", () => {
    const m = metrics();
    const axis = minuteAxis(m);
    expect(axis).toEqual([0, 1, 2, 3, 4].map((i) => (T0 + i * 60_000) / 1000));
    expect(counterPerMinute(m, axis, "events_accepted")).toEqual([3, 0, 6, 0, 0]);
    expect(counterPerMinute(m, axis, "events_accepted", (l) => l.route === "mp")).toEqual([0, 0, 2, 0, 0]);
    expect(counterBy(m, "events_accepted", "route")).toEqual([
      { key: "collect", total: 7 },
      { key: "mp", total: 2 },
    ]);
  });

  it("merges a timing's label sets towards the slowest, per minute and overall", () => {
    const m = metrics();
    const axis = minuteAxis(m);
    expect(timingSummary(m, "clickhouse_ms")).toEqual({ count: 14, p50: 35, p95: 80, p99: 95, max: 120 });
    expect(timingPerMinute(m, axis, "clickhouse_ms")).toEqual({ p50: [0, 35, 0, 30, 0], p95: [0, 80, 0, 50, 0] });
    expect(timingSummary(m, "warehouse_ms")).toBeUndefined();
  });

  it("turns cache lookups into hit ratios per layer and per minute", () => {
    const m = metrics();
    expect(cacheLayers(m)).toEqual([
      { layer: "property", hits: 0, misses: 2, ratio: 0 },
      { layer: "query", hits: 3, misses: 1, ratio: 0.75 },
    ]);
    expect(cacheRatioPerMinute(m, minuteAxis(m))).toEqual([0, 0, 0, 0.75, 0]);
  });

  it("builds every tile of the board, saying what would appear where nothing was recorded", () => {
    const tiles = buildBoard(metrics());
    expect(tiles.map((t) => t.id)).toEqual([
      "ops-ingestion",
      "ops-refused",
      "ops-bots",
      "ops-queue-lag",
      "ops-processing-lag",
      "ops-consumer",
      "ops-clickhouse",
      "ops-warehouse",
      "ops-queries",
      "ops-cache",
      "ops-alerts",
    ]);
    const byId = new Map(tiles.map((t) => [t.id, t]));
    expect(byId.get("ops-ingestion")).toMatchObject({ value: "9", hasData: true });
    expect(byId.get("ops-ingestion")?.rows).toEqual([
      { key: "collect", cells: ["7"] },
      { key: "mp", cells: ["2"] },
    ]);
    expect(byId.get("ops-clickhouse")).toMatchObject({ value: "80 ms", hasData: true });
    expect(byId.get("ops-cache")?.value).toBe(new Intl.NumberFormat(undefined, { style: "percent" }).format(0.5));
    const bots = byId.get("ops-bots");
    expect(bots?.hasData).toBe(false);
    expect(bots?.empty).toMatch(/appear here/);
    for (const t of tiles) for (const s of t.series) expect(s.values).toHaveLength(5);
  });

  it("ranks locations and countries by events", () => {
    expect(regions(metrics())).toEqual({
      locations: [
        { key: "AMS", total: 6 },
        { key: "FRA", total: 5 },
      ],
      countries: [
        { key: "DE", total: 7 },
        { key: "NL", total: 4 },
      ],
    });
  });

  it("writes durations in ms, seconds and minutes", () => {
    expect(formatMs(undefined)).toBe("–");
    expect(formatMs(0)).toBe("0 ms");
    expect(formatMs(0.25)).toBe("0.25 ms");
    expect(formatMs(850)).toBe("850 ms");
    expect(formatMs(1250)).toBe("1.3 s");
    expect(formatMs(180_000)).toBe("3.0 min");
  });
});

describe("alerts page", () => {
  const alert = (id: string, status: "open" | "resolved", opened: string, resolved: string | null): ShownAlert => ({
    alert_id: id,
    property_id: "UA-1",
    kind: "spike",
    metric: "pageviews",
    subject: "",
    status,
    opened_at: opened,
    resolved_at: resolved,
    minute: opened,
    observed: 10,
    expected: 1,
    deviation: 9,
    message: "",
  });

  it("lists open alerts first, each group newest first, with how long each lasted", () => {
    const a = alert("a", "resolved", "2026-12-01T10:00:00.000Z", "2026-12-01T13:05:00.000Z");
    const b = alert("b", "open", "2026-12-01T09:00:00.000Z", null);
    const c = alert("c", "resolved", "2026-12-01T11:00:00.000Z", "2026-12-01T11:12:00.000Z");
    const d = alert("d", "open", "2026-12-01T12:00:00.000Z", null);
    const { open, history } = orderAlerts([a, b, c, d]);
    expect(open.map((x) => x.alert_id)).toEqual(["d", "b"]);
    expect(history.map((x) => x.alert_id)).toEqual(["c", "a"]);
    expect(alertDuration(a, 0)).toBe("3 h 5 min");
    expect(alertDuration(c, 0)).toBe("12 min");
    expect(alertDuration(b, Date.parse("2026-12-03T10:00:00.000Z"))).toBe("2 d 1 h");
  });

  it("puts each field the API names next to its input, and the rest above the form", () => {
    expect(
      fieldErrors(
        "threshold: Too big: expected number to be <=20; webhook.url: must be an https URL (http only for localhost) without credentials; kinds[1]: Invalid option; body: odd",
      ),
    ).toEqual({
      fields: {
        threshold: "Too big: expected number to be <=20",
        "webhook.url": "must be an https URL (http only for localhost) without credentials",
        kinds: "Invalid option",
      },
      rest: ["body: odd"],
    });
  });
});

describe("navigation", () => {
  it("shows Operations only to the admin (key 0), Settings after it, and numbers the views 1–9 then 0", () => {
    expect(viewsFor(false).map((v) => v.id)).not.toContain("operations");
    expect(viewsFor(false).map((v) => v.id)).toContain("alerts");
    const admin = viewsFor(true);
    expect(admin.map((v) => v.id).slice(-2)).toEqual(["operations", "settings"]);
    expect(admin.map((_, i) => shortcutKey(i))).toEqual(["1", "2", "3", "4", "5", "6", "7", "8", "9", "0", undefined]);
    expect(shortcutKey(10)).toBeUndefined();
  });

  it("offers a shared link's viewer the reports only: no bot audit, custom reports, alerts or settings", () => {
    const shared = VIEWS.filter((v) => mayView(v, new Set(["view"]), true)).map((v) => v.id);
    expect(shared).toEqual(["overview", "realtime", "audience", "acquisition", "behavior", "conversions"]);
    const viewer = VIEWS.filter((v) => mayView(v, new Set(["view", "read"]))).map((v) => v.id);
    expect(viewer).toContain("bots");
    expect(viewer).not.toContain("settings");
  });
});
