/**
 * Planning for ranges beyond the hot retention (core/query/plan.ts plans the rest): which store
 * holds them, given how far the warehouse is loaded, and the plans of funnels, retention and the
 * bot audit, which read raw events from whichever store that is. Pure.
 */
import { DAY_MS } from "../time.ts";
import type { Leg, Plan } from "./plan.ts";

/**
 * Every question's first rule, whatever it asks: a range that starts beyond the hot retention is
 * the warehouse's (ClickHouse keeps `hotRetentionDays`). Returns why, or null when it is not.
 */
export function beyondHotRetention(from: number, now: number, hotRetentionDays: number): string | null {
  return from < now - hotRetentionDays * DAY_MS ? `the range starts more than ${hotRetentionDays} days ago` : null;
}

/** Where a cold range goes, given the warehouse's frontier (every hour before it is loaded; null: none yet). */
export type ColdRoute =
  | { store: "warehouse"; reason: string }
  | { store: "clickhouse"; reason: string }
  | { store: "mixed"; reason: string; boundary: number };

/**
 * A range starting beyond the hot retention: the warehouse answers up to its frontier, ClickHouse
 * the hours after (hot retention drops a day only before the frontier, once checked: ClickHouse
 * keeps every hour the warehouse may lack). No frontier yet — no scheduled load has run, or no
 * warehouse is configured — means ClickHouse has dropped nothing, and it answers the whole range.
 */
export function routeCold(cold: string, from: number, to: number, warehouseThrough: number | null): ColdRoute {
  const through = warehouseThrough ?? 0;
  if (through <= 0)
    return {
      store: "clickhouse",
      reason: `${cold}, but the warehouse has no loaded frontier yet: ClickHouse, which has dropped nothing`,
    };
  const loaded = new Date(through).toISOString();
  if (to <= through) return { store: "warehouse", reason: `${cold}: the warehouse (loaded through ${loaded})` };
  if (through <= from)
    return {
      store: "clickhouse",
      reason: `${cold}, but the warehouse is loaded only through ${loaded}: ClickHouse, which keeps every hour not loaded yet`,
    };
  return {
    store: "mixed",
    boundary: through,
    reason: `${cold}: the warehouse up to ${loaded} (its frontier: every hour before it is loaded), ClickHouse after it, merged`,
  };
}

/** Questions outside the query language, each with its own SQL builder over raw events. */
export type RawQuestion = "funnel" | "retention" | "bots";

const rawEvents: Leg = { side: "events", table: "events", rollupDimension: null, joinSessions: false, days: null };

/**
 * Funnels, retention and the bot audit read raw events from one store: they cannot be merged
 * across the warehouse's frontier (a funnel or a cohort follows visitors across it). ClickHouse
 * drops only whole UTC days wholly before the hot retention (and the frontier: core/warehouse/
 * retention.ts), so a range starting on or after the first day the retention reaches into is
 * ClickHouse's, whole. Otherwise the cold route decides: the warehouse answers a range it holds,
 * one reaching past its frontier up to it only (the last hour or two the load job has not
 * reached), said in the reason and cut in the answer; no frontier, ClickHouse.
 */
export function planRawQuestion(
  kind: RawQuestion,
  range: { from: number; to: number },
  now: number,
  hotRetentionDays: number,
  warehouseThrough: number | null = null,
): Plan {
  const cold = beyondHotRetention(range.from, now, hotRetentionDays);
  const kept = Math.floor((now - hotRetentionDays * DAY_MS) / DAY_MS) * DAY_MS;
  if (cold && range.from >= kept)
    return {
      source: "clickhouse",
      mode: "event",
      legs: [rawEvents],
      reason: `${kind}: raw events; ${cold}, but ClickHouse still holds it (it drops only whole days before ${new Date(kept).toISOString().slice(0, 10)})`,
    };
  const route = cold ? routeCold(cold, range.from, range.to, warehouseThrough) : null;
  if (!route || route.store === "clickhouse")
    return {
      source: "clickhouse",
      mode: "event",
      legs: [rawEvents],
      reason: `${kind}: raw events${route ? `; ${route.reason}` : ""}`,
    };
  const cut =
    route.store === "mixed"
      ? `; the range is cut at ${new Date(route.boundary).toISOString()}, where the warehouse ends`
      : "";
  return {
    source: "warehouse",
    mode: "event",
    legs: [rawEvents],
    reason: `${kind}: raw events; ${route.reason.replace(/, ClickHouse after it, merged$/, "")}${cut}`,
    ...(route.store === "mixed" ? { boundary: route.boundary } : {}),
  };
}
