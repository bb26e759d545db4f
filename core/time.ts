/** Durations in milliseconds, named once: every epoch-ms computation in Tally uses these. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
