/**
 * validate → normalise → plan → SQL → run → **shape**. Rows from ClickHouse or the live actor
 * become `{dimensions, metrics}` in the query's order; a single time series is gap-filled with
 * zeros over the whole range (in the query's time zone), then ordered and paged here.
 */
import { bucketLabels } from "./dates.ts";
import type { ResolvedQuery } from "./normalise.ts";
import { isTimeDimension, type TimeDimension } from "./spec.ts";

export interface ResultRow {
  dimensions: string[];
  metrics: number[];
}

export interface Shaped {
  results: ResultRow[];
  total_rows: number | undefined;
  /** With a revenue metric: the other currencies revenue was recorded in (not summed, never converted). */
  other_currencies: string[] | undefined;
}

type Raw = Record<string, unknown>;

const num = (v: unknown) => (typeof v === "number" ? v : Number(v ?? 0));

function toResult(q: ResolvedQuery, row: Raw): ResultRow {
  return {
    dimensions: q.dimensions.map((_, i) => String(row[`d${i}`] ?? "")),
    metrics: q.metrics.map((m) => num(row[m])),
  };
}

function compare(q: ResolvedQuery) {
  const keys = q.order_by.map(([key, dir]) => {
    const d = q.dimensions.indexOf(key as never);
    const m = q.metrics.indexOf(key as never);
    return { d, m, sign: dir === "desc" ? -1 : 1 };
  });
  return (a: ResultRow, b: ResultRow) => {
    for (const k of keys) {
      const c =
        k.d >= 0
          ? (a.dimensions[k.d] ?? "").localeCompare(b.dimensions[k.d] ?? "", "en")
          : (a.metrics[k.m] ?? 0) - (b.metrics[k.m] ?? 0);
      if (c !== 0) return c * k.sign;
    }
    return 0;
  };
}

/** Every row carries the whole answer's list (a window over the statement); their union, sorted. */
function otherCurrencies(q: ResolvedQuery, rows: readonly Raw[]): string[] | undefined {
  if (q.include.currency === undefined) return undefined;
  const all = new Set<string>();
  for (const r of rows)
    for (const c of Array.isArray(r._other_currencies) ? r._other_currencies : []) all.add(String(c));
  return [...all].sort();
}

/**
 * `pagedInSql`: ClickHouse already ordered and paged the rows (and counted them in `_total`).
 * Otherwise (a gap-filled series, or the live actor) ordering and paging happen here.
 */
export function shapeRows(q: ResolvedQuery, rows: readonly Raw[], pagedInSql: boolean): Shaped {
  let results = rows.map((r) => toResult(q, r));
  if (pagedInSql) {
    const total = rows.length > 0 ? num(rows[0]?._total) : 0;
    return {
      results,
      total_rows: q.include.total_rows ? total : undefined,
      other_currencies: otherCurrencies(q, rows),
    };
  }
  const time =
    q.dimensions.length === 1 && isTimeDimension(q.dimensions[0] ?? "") ? (q.dimensions[0] as TimeDimension) : null;
  if (time) {
    const byLabel = new Map(results.map((r) => [r.dimensions[0], r]));
    results = bucketLabels(q.from, q.to, time, q.timezone).map(
      (label) => byLabel.get(label) ?? { dimensions: [label], metrics: q.metrics.map(() => 0) },
    );
  }
  results.sort(compare(q));
  return {
    results: results.slice(q.offset, q.offset + q.limit),
    total_rows: q.include.total_rows ? results.length : undefined,
    other_currencies: otherCurrencies(q, rows),
  };
}
