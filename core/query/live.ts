/**
 * The live leg: a query over the last hour answered from the PropertyDO's minute windows instead
 * of ClickHouse. Produces rows in the SQL builder's shape (`d0…`, metric names), so one shaper
 * serves both stores. Unique visitors are the union of the minutes' HyperLogLogs.
 */
import { AppError } from "../errors.ts";
import { HyperLogLog } from "../session/hll.ts";
import type { StoredWindow } from "../session/window.ts";
import { bucketLabel } from "./dates.ts";
import type { ResolvedQuery } from "./normalise.ts";
import type { Metric } from "./spec.ts";

type Row = Record<string, string | number>;

/**
 * The windows hold counts only: revenue, engagement, rates and shares are ClickHouse's (the
 * planner sends such queries there, saying so in `meta.plan`). Reaching here with one is a planner
 * bug, refused rather than answered with zeros.
 */
function notInWindows(metric: string): AppError {
  return new AppError(
    "invalid_query",
    400,
    `metrics: ${metric} is not kept in the live minute windows; it is answered from ClickHouse`,
  );
}

function totals(windows: readonly StoredWindow[], metrics: readonly Metric[]): Row {
  const row: Row = {};
  for (const m of metrics) {
    if (m === "visitors")
      row[m] = windows.reduce((h, w) => h.merge(HyperLogLog.deserialize(w.visitors)), new HyperLogLog()).count();
    else if (m === "visits") row[m] = windows.reduce((n, w) => n + w.sessions_started, 0);
    else if (m === "pageviews") row[m] = windows.reduce((n, w) => n + w.pageviews, 0);
    else if (m === "events") row[m] = windows.reduce((n, w) => n + w.events, 0);
    else throw notInWindows(m);
  }
  return row;
}

const TOP_LISTS = {
  "event:page": "pages",
  "visit:source": "sources",
  "visit:country": "countries",
  "visit:device": "devices",
} as const;

/** Rows for a live-planned query (core/query/plan.ts liveEligible decides which shapes reach here). */
export function liveRows(q: ResolvedQuery, stored: readonly StoredWindow[]): Row[] {
  // The planner sends only ranges of whole minutes here, so a window is wholly in or out.
  const windows = stored.filter((w) => w.minute >= q.from && w.minute < q.to);
  const [dim] = q.dimensions;
  if (dim === undefined) return [totals(windows, q.metrics)];
  if (dim === "time:minute")
    return windows.map((w) => ({ d0: bucketLabel(w.minute, "time:minute", q.timezone), ...totals([w], q.metrics) }));
  const list = TOP_LISTS[dim as keyof typeof TOP_LISTS];
  const counts = new Map<string, number>();
  for (const w of windows) for (const e of w[list]) counts.set(e.key, (counts.get(e.key) ?? 0) + e.count);
  const [metric] = q.metrics;
  const unsupported = q.metrics.find((m) => m !== metric || !["visits", "pageviews"].includes(m));
  if (unsupported) throw notInWindows(unsupported);
  return [...counts].map(([key, count]) => ({ d0: key, [metric ?? "visits"]: count }));
}
