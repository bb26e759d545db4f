/**
 * Which period a scheduled digest reports, in the property's time zone: the last complete ISO week
 * (Monday–Sunday, `2026-W48`) or calendar month (`2026-11`), with the period before it for the
 * comparison. A period is due from 06:00 local time on the day after it ends, so a person reads
 * Monday morning's digest with Sunday's visits in it; the Cron runs hourly, so a digest goes out
 * within the hour after 06:00, or later if runs were missed.
 */

import { addDays, addMonths, formatDate, type LocalDate, localDate, zonedTime } from "../query/dates.ts";
import type { DIGEST_FREQUENCIES, Digest } from "../team/schemas.ts";
import { DAY_MS } from "../time.ts";

export type DigestFrequency = (typeof DIGEST_FREQUENCIES)[number];

/** Local hour from which the period that ended the day before is due. */
export const DUE_HOUR = 6;

/** Dates as `YYYY-MM-DD`, both inclusive, in the property's time zone. */
export interface DateSpan {
  from: string;
  to: string;
}

export interface DigestPeriod extends DateSpan {
  frequency: DigestFrequency;
  /** `2026-W48` (ISO week) or `2026-11`: what `Digest.last_period` records. */
  name: string;
  /** The period just before, as long as it (a week, or the previous whole month). */
  previous: DateSpan;
  /** The instant from which it is due: 06:00 local on the day after `to`. */
  due_at: number;
}

/** ISO day of the week, Monday 1 … Sunday 7. */
function isoWeekday(date: LocalDate): number {
  const day = new Date(Date.UTC(date.y, date.m - 1, date.d)).getUTCDay();
  return day === 0 ? 7 : day;
}

/** `2026-W48`: the ISO week-numbering year is the one its Thursday falls in. */
export function isoWeekName(monday: LocalDate): string {
  const thursday = addDays(monday, 3);
  const dayOfYear = (Date.UTC(thursday.y, thursday.m - 1, thursday.d) - Date.UTC(thursday.y, 0, 1)) / DAY_MS;
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${thursday.y}-W${String(week).padStart(2, "0")}`;
}

const span = (from: LocalDate, to: LocalDate): DateSpan => ({ from: formatDate(from), to: formatDate(to) });

/** The last week or month that ended before the local day `now` falls in. */
export function lastCompletePeriod(frequency: DigestFrequency, timezone: string, now: number): DigestPeriod {
  const today = localDate(now, timezone);
  if (frequency === "weekly") {
    const thisMonday = addDays(today, 1 - isoWeekday(today));
    const monday = addDays(thisMonday, -7);
    return {
      frequency,
      name: isoWeekName(monday),
      ...span(monday, addDays(thisMonday, -1)),
      previous: span(addDays(monday, -7), addDays(monday, -1)),
      due_at: zonedTime(thisMonday, timezone, DUE_HOUR),
    };
  }
  const thisFirst = { y: today.y, m: today.m, d: 1 };
  const first = addMonths(thisFirst, -1);
  const previousFirst = addMonths(thisFirst, -2);
  return {
    frequency,
    name: formatDate(first).slice(0, 7),
    ...span(first, addDays(thisFirst, -1)),
    previous: span(previousFirst, addDays(first, -1)),
    due_at: zonedTime(thisFirst, timezone, DUE_HOUR),
  };
}

/**
 * The period this digest should send now, or undefined: the last complete period once its due
 * time has passed, unless the digest already sent it. Before 06:00 on the Monday (or the 1st) the
 * period before that was the one due, and it was sent then (or is superseded: a digest catches up
 * with the latest period only, never a backlog).
 */
export function duePeriod(
  digest: Pick<Digest, "frequency" | "last_period">,
  timezone: string,
  now: number,
): DigestPeriod | undefined {
  const period = lastCompletePeriod(digest.frequency, timezone, now);
  if (now < period.due_at || digest.last_period === period.name) return undefined;
  return period;
}
