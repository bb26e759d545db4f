/** Time, named once: durations in milliseconds for every epoch-ms computation, and the time-zone check. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Whether the runtime knows this IANA time zone (`Europe/Berlin`); the same check in workerd and Node. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
