/**
 * KNOWN BUGS the fuzz suite found in files its owner may not edit, each reported to the lead with
 * its fix. A matching case is still sent and counted, but its 5xx is reported apart instead of
 * failing the run (test/workers/fuzz-endpoints.test.ts, bench/fuzz.ts); each entry has a pinned
 * `it.fails` test in fuzz-endpoints.test.ts that turns red once the bug is fixed: then delete both.
 */
import type { FuzzCase } from "./fuzz-cases.ts";

export interface KnownBug {
  route: string;
  /** Where the bug is and why it answers 5xx. */
  cause: string;
  matches: (c: FuzzCase) => boolean;
}

// Empty: the three the suite found (import's property_id toString, reports ending 9999-12-31, utm_* NUL)
// are fixed, with regression tests in fuzz-endpoints.test.ts.
export const KNOWN_5XX: readonly KnownBug[] = [];

/** The known bug a 5xx answer to this case is, if any. */
export function knownBug(c: FuzzCase, status: number): KnownBug | undefined {
  return status >= 500 ? KNOWN_5XX.find((k) => k.route === c.route && k.matches(c)) : undefined;
}

/** Stored fields known to hold control characters, with why; the stored-garbage checks report them apart. */
export const KNOWN_CONTROL_CHAR_FIELDS: ReadonlyMap<string, string> = new Map();

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The fields of a stored event whose text holds a control character (maps: `field.key`). */
export function controlCharFields(event: Record<string, unknown>): string[] {
  const found: string[] = [];
  for (const [field, value] of Object.entries(event)) {
    if (typeof value === "string" && CONTROL.test(value)) found.push(field);
    else if (typeof value === "object" && value !== null)
      for (const [k, v] of Object.entries(value))
        if (CONTROL.test(k) || CONTROL.test(String(v))) found.push(`${field}.${k}`);
  }
  return found;
}
