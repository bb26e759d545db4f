/**
 * Query-language trees for the fuzz suite: well-formed enough to pass the parser's shape checks and
 * reach the planner and the SQL (where a 500 would hide), hostile in content — every metric and
 * dimension with look-alikes (`constructor`, `toString`, props keys), filter trees nested and wide
 * to and past the limits, regexes RE2 refuses, dates that do not exist, reversed and huge ranges.
 */
import { DATE_PRESETS, DIMENSION_SCOPE, FILTER_OPERATORS, METRICS, TIME_DIMENSIONS } from "../../core/query/spec.ts";
import { HOSTILE_STRINGS, type Rng } from "./fuzz-inputs.ts";

const DIMENSIONS = [...Object.keys(DIMENSION_SCOPE), ...TIME_DIMENSIONS];
const LOOKALIKES = [
  "constructor",
  "toString",
  "__proto__",
  "hasOwnProperty",
  "event:props:plan",
  "event:props:__proto__",
  "event:props:",
  "event:props:a b",
  "event:goal",
  "visit:",
  "time:year",
  "EVENT:PAGE",
];
const REGEXES = [".*", "^/page-\\d+$", "(a+)+$", "(?=x)", "\\1", "[", "(?i)PAGE", "\\p{L}+", "a{1,100000}", ""];
const DATES = ["2026-02-29", "2026-02-30", "0001-01-01", "9999-12-31", "2026-13-40", "1970-01-01", "2025-11-31"];
const TIMES = ["2026-11-01T00:00:00Z", "2026-11-01T25:00+14:00", "2026-11-01T00:00:00.999-12:00", "0000-01-01T00:00Z"];

/** A day as the reports, bots and data-quality routes take it: real, impossible or far away. */
export function hostileDate(r: Rng): string {
  const recent = new Date(Date.now() - r.int(400) * 86_400_000).toISOString().slice(0, 10);
  return r.chance(0.6) ? recent : r.pick(DATES);
}

function dimension(r: Rng): string {
  return r.chance(0.8) ? r.pick(DIMENSIONS) : r.pick(LOOKALIKES);
}

function values(r: Rng, op: string): string[] {
  const n = r.chance(0.1) ? 90 + r.int(20) : 1 + r.int(3);
  return Array.from({ length: n }, () =>
    op.startsWith("matches") && r.chance(0.6)
      ? r.pick(REGEXES)
      : r.chance(0.5)
        ? `/page-${r.int(5)}`
        : r.pick(HOSTILE_STRINGS),
  );
}

/** A filter tree up to `depth` levels, sometimes past the parser's nesting and width limits. */
export function filterTree(r: Rng, depth: number): unknown {
  const x = r.next();
  if (depth > 0 && x < 0.25) {
    const width = r.chance(0.05) ? 60 : 1 + r.int(4);
    return [r.pick(["and", "or"]), Array.from({ length: width }, () => filterTree(r, depth - 1))];
  }
  if (depth > 0 && x < 0.35) return ["not", filterTree(r, depth - 1)];
  const op = r.chance(0.9) ? r.pick(FILTER_OPERATORS) : r.pick(["equals", "IS", "", "and"]);
  return [op, dimension(r), values(r, op)];
}

function dateRange(r: Rng): unknown {
  const x = r.next();
  if (x < 0.4) return r.pick(DATE_PRESETS);
  if (x < 0.7) {
    const [a, b] = [r.pick(DATES), r.pick(DATES)];
    return r.chance(0.5) ? [a, b] : [b, a];
  }
  if (x < 0.9) return [r.pick(TIMES), r.pick(TIMES)];
  return r.pick(["1d", "all ", ["2026-11-01"], [], null, "realtime"]);
}

/** A query for `propertyId` whose every part is drawn from the language's own vocabulary and its look-alikes. */
export function hostileQuerySpec(r: Rng, propertyId: string): Record<string, unknown> {
  const metrics = Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.92) ? r.pick(METRICS) : r.pick(LOOKALIKES)));
  const dimensions = Array.from({ length: r.int(4) }, () => dimension(r));
  const spec: Record<string, unknown> = {
    property_id: propertyId,
    metrics: [...new Set(metrics)],
    dimensions: r.chance(0.9) ? [...new Set(dimensions)] : dimensions,
    filters: Array.from({ length: r.int(3) }, () => filterTree(r, r.chance(0.1) ? 6 : 3)),
    date_range: dateRange(r),
  };
  if (r.chance(0.3)) spec.order_by = [[r.pick([...metrics, ...dimensions, "constructor"]), r.pick(["asc", "desc"])]];
  if (r.chance(0.3)) spec.limit = r.pick([1, 10_000, 0, -1, 1.5, 10_001]);
  if (r.chance(0.2)) spec.offset = r.pick([0, 999_999, 1_000_001]);
  if (r.chance(0.2)) spec.compare = r.pick(["previous_period", "year_over_year", null]);
  if (r.chance(0.2)) spec.timezone = r.pick(["Europe/Berlin", "Etc/GMT+14", "Mars/Olympus", "UTC", "+05:30", ""]);
  if (r.chance(0.2))
    spec.include = {
      bots: r.chance(0.5),
      total_rows: r.chance(0.5),
      ...(r.chance(0.3) ? { currency: r.pick(["EUR", "XXX", "eur"]) } : {}),
    };
  return spec;
}

/** Funnel steps for the reports' `steps` parameter: page patterns and event names, some beyond the limits. */
export function hostileFunnelSteps(r: Rng): unknown {
  const n = r.chance(0.1) ? r.pick([0, 1, 9, 50]) : 2 + r.int(5);
  return Array.from({ length: n }, () =>
    r.chance(0.5)
      ? { kind: "page", value: r.pick(["/", "/page-*", "/**", "/a/*/b/**", `/${"*".repeat(200)}`, "/%", "/\u0000"]) }
      : { kind: "event", value: r.pick(["signup", "pageview", "x".repeat(500), "constructor", "'"]) },
  );
}
