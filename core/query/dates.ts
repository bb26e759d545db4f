/**
 * Calendar arithmetic in a property's time zone, with nothing but Intl: date presets become
 * half-open instants [from, to), comparison periods shift them, and time buckets are labelled
 * exactly as the SQL builder's `formatDateTime(…, tz)` labels them, so gaps can be filled.
 */

import { DAY_MS, HOUR_MS } from "../time.ts";
import type { DatePreset, TimeDimension } from "./spec.ts";

export interface LocalDate {
  y: number;
  m: number; // 1..12
  d: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The wall-clock fields of an instant in a zone. */
export function wallClock(ms: number, tz: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return {
    y: parts.year ?? 1970,
    m: parts.month ?? 1,
    d: parts.day ?? 1,
    h: parts.hour ?? 0,
    min: parts.minute ?? 0,
    s: parts.second ?? 0,
  };
}

/** The zone's offset from UTC at an instant, in ms (Berlin in winter: +3,600,000). */
export function offsetMs(ms: number, tz: string): number {
  const w = wallClock(ms, tz);
  const asUtc = Date.UTC(w.y, w.m - 1, w.d, w.h, w.min, w.s);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/** The instant a local wall-clock time happens (the earlier one on a DST overlap, the next on a gap). */
export function zonedTime(date: LocalDate, tz: string, h = 0, min = 0): number {
  const guess = Date.UTC(date.y, date.m - 1, date.d, h, min);
  const first = guess - offsetMs(guess, tz);
  const second = guess - offsetMs(first, tz);
  return Math.min(first, second);
}

export const startOfDay = (date: LocalDate, tz: string) => zonedTime(date, tz);

export function localDate(ms: number, tz: string): LocalDate {
  const { y, m, d } = wallClock(ms, tz);
  return { y, m, d };
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1, date.d) + days * DAY_MS);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate() };
}

export function addMonths(date: LocalDate, months: number): LocalDate {
  const t = new Date(Date.UTC(date.y, date.m - 1 + months, 1));
  const last = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: Math.min(date.d, last) };
}

export const formatDate = (d: LocalDate) =>
  `${String(d.y).padStart(4, "0")}-${String(d.m).padStart(2, "0")}-${String(d.d).padStart(2, "0")}`;

export function parseDate(text: string): LocalDate | undefined {
  const [y, m, d] = text.split("-").map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d ? { y, m, d } : undefined;
}

/** A preset as [from, to) in the zone. `Nd` ranges end with today (inclusive, so they include now). */
export function presetRange(preset: DatePreset, tz: string, now: number, createdAt: number): [number, number] {
  const today = localDate(now, tz);
  const tomorrow = startOfDay(addDays(today, 1), tz);
  const days = (n: number): [number, number] => [startOfDay(addDays(today, -(n - 1)), tz), tomorrow];
  switch (preset) {
    case "realtime":
      // Whole minutes — this one and the 29 before — as the actors' windows and the realtime
      // snapshot count them, so live and ClickHouse answers cover the very same events.
      return [Math.floor(now / 60_000) * 60_000 - 29 * 60_000, now + 1];
    case "today":
      return days(1);
    case "yesterday":
      return [startOfDay(addDays(today, -1), tz), startOfDay(today, tz)];
    case "7d":
      return days(7);
    case "30d":
      return days(30);
    case "90d":
      return days(90);
    case "12mo":
      return [startOfDay(addMonths({ ...today, d: 1 }, -11), tz), startOfDay(addMonths({ ...today, d: 1 }, 1), tz)];
    case "all":
      return [startOfDay(localDate(Math.min(createdAt, now), tz), tz), tomorrow];
  }
}

/** The comparison period: the same length just before, or the same local dates a year earlier. */
export function compareRange(
  [from, to]: [number, number],
  kind: "previous_period" | "year_over_year",
  tz: string,
): [number, number] {
  if (kind === "previous_period") return [from - (to - from), from];
  const shift = (ms: number) => {
    const w = wallClock(ms, tz);
    return zonedTime(addMonths({ y: w.y, m: w.m, d: w.d }, -12), tz, w.h, w.min) + (ms % 60_000);
  };
  return [shift(from), shift(to)];
}

/** True when every offset met in [from, to) is a multiple of `unit`. */
function offsetsDivisible(tz: string, from: number, to: number, unit: number): boolean {
  const step = Math.max(DAY_MS, Math.ceil((to - from) / 400));
  for (let t = from; t < to + step; t += step) if (offsetMs(Math.min(t, to), tz) % unit !== 0) return false;
  return true;
}

/** True when every offset met in [from, to) is whole hours: hourly rollups then cut local hours and days exactly. */
export const wholeHourZone = (tz: string, from: number, to: number) => offsetsDivisible(tz, from, to, HOUR_MS);

/** True when the zone is UTC throughout [from, to): UTC days are then its local days, weeks and months. */
export const utcLikeZone = (tz: string, from: number, to: number) => offsetsDivisible(tz, from, to, DAY_MS);

const pad = (n: number) => String(n).padStart(2, "0");

/** The label the SQL builder gives the bucket holding `ms` (see core/query/sql.ts TIME_FORMATS). */
export function bucketLabel(ms: number, dim: TimeDimension, tz: string): string {
  const w = wallClock(ms, tz);
  const date = formatDate(w);
  switch (dim) {
    case "time:minute":
      return `${date} ${pad(w.h)}:${pad(w.min)}:00`;
    case "time:hour":
      return `${date} ${pad(w.h)}:00:00`;
    case "time:day":
      return date;
    case "time:week": {
      const dow = new Date(Date.UTC(w.y, w.m - 1, w.d)).getUTCDay();
      return formatDate(addDays(w, -((dow + 6) % 7)));
    }
    case "time:month":
      return `${String(w.y).padStart(4, "0")}-${pad(w.m)}-01`;
  }
}

const STEP: Record<TimeDimension, number> = {
  "time:minute": 60_000,
  "time:hour": 15 * 60_000,
  "time:day": HOUR_MS,
  "time:week": HOUR_MS,
  "time:month": HOUR_MS,
};

/** Every bucket label in [from, to), in order: what gap-filling fills. Stepping finer than the bucket keeps DST and odd offsets right. */
export function bucketLabels(from: number, to: number, dim: TimeDimension, tz: string, max = 10_000): string[] {
  const labels: string[] = [];
  const step = STEP[dim];
  let last = "";
  for (let t = from; t < to; t += step) {
    const label = bucketLabel(t, dim, tz);
    if (label !== last) {
      if (!labels.includes(label)) labels.push(label);
      last = label;
      if (labels.length > max) break;
    }
  }
  return labels;
}

/** How many buckets a range has, without listing them (for the limit on gap-filled series). */
export function bucketCount(from: number, to: number, dim: TimeDimension): number {
  const size = {
    "time:minute": 60_000,
    "time:hour": HOUR_MS,
    "time:day": DAY_MS,
    "time:week": 7 * DAY_MS,
    "time:month": 28 * DAY_MS,
  }[dim];
  return Math.ceil((to - from) / size) + 1;
}
