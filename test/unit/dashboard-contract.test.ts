/**
 * The dashboard's copies of server facts stay in step with the server: every metric and dimension
 * of the query language has a label (so a new one cannot silently be missing from the builder), and
 * every route the Worker serves is in wrangler.toml's `run_worker_first`, so the SPA's fallback never
 * swallows an API path; and each metric is written in the unit the API answers it in.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DIMENSION_SCOPE, METRICS } from "../../core/query/spec.ts";
import { DIMENSION_LABELS, formatMetric, formatMoney, METRIC_LABELS } from "../../web/dashboard/src/format.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

/** `run_worker_first` patterns as regular expressions (`*` matches anything, as wrangler's globs do). */
function workerFirst(): RegExp[] {
  const toml = readFileSync("wrangler.toml", "utf8");
  const list = /^run_worker_first\s*=\s*\[([^\]]*)\]/m.exec(toml)?.[1] ?? "";
  return [...list.matchAll(/"([^"]+)"/g)].map(
    ([, glob]) => new RegExp(`^${(glob ?? "").replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`),
  );
}

describe("dashboard contract", () => {
  it("labels exactly the query language's metrics and dimensions", () => {
    expect(Object.keys(METRIC_LABELS).sort()).toEqual([...METRICS].sort());
    expect(Object.keys(DIMENSION_LABELS).sort()).toEqual(Object.keys(DIMENSION_SCOPE).sort());
  });

  it("writes each metric in the API's unit: rates as fractions, scroll depth 0–100, seconds, amounts", () => {
    const percent = (v: number) =>
      new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 1 }).format(v);
    for (const rate of ["bounce_rate", "conversion_rate", "group_conversion_rate", "exit_rate", "percentage"])
      expect(formatMetric(rate, 2 / 3), rate).toBe(percent(0.667));
    expect(formatMetric("scroll_depth", 70)).toBe(percent(0.7));
    expect(formatMetric("time_on_page", 72)).toBe("1m 12s");
    // No engagement event on a page: nothing was measured, which is not 0 seconds.
    expect(formatMetric("time_on_page", 0)).toBe("–");
    expect(formatMetric("scroll_depth", 0)).toBe("–");
    const euros = new Intl.NumberFormat(undefined, { style: "currency", currency: "EUR" }).format(150);
    expect(formatMoney(150, "EUR")).toBe(euros);
    expect(formatMetric("average_revenue", 75.5)).toMatch(/^75.50$/);
  });

  it("lets the Worker answer first for every route it defines", () => {
    const routes = sourceFiles("workers").flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\.(?:get|post|put|patch|delete|all)\(\s*"(\/[^"]*)"/g)].map(([, path]) =>
        (path ?? "").replace(/:[A-Za-z]+/g, "x"),
      ),
    );
    expect(routes).toContain("/collect");
    expect(routes).toContain("/api/v1/query");
    const patterns = workerFirst();
    expect(patterns.length).toBeGreaterThan(0);
    const unrouted = routes.filter((r) => !patterns.some((p) => p.test(r)));
    expect(unrouted).toEqual([]);
  });
});
