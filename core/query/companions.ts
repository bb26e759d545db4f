/**
 * Some metrics divide a row's figure by one from another question: `percentage` and a breakdown's
 * `conversion_rate` by the visitors of the whole query (no dimensions), `exit_rate` by the views of
 * each exit page. Those questions are companions of the query: planned like any query
 * (core/query/plan.ts, so the rollups answer them when they can) and joined into its statement
 * (core/query/sql.ts). Pure.
 */
import type { ResolvedQuery } from "./normalise.ts";
import type { Filter, Metric } from "./spec.ts";

export type CompanionRole = "totals" | "exit_pages";

/** Which companions a query needs. */
export function companionRoles(q: ResolvedQuery): CompanionRole[] {
  const roles: CompanionRole[] = [];
  const breakdown = q.dimensions.length > 0;
  if (breakdown && (q.metrics.includes("percentage") || q.metrics.includes("conversion_rate"))) roles.push("totals");
  if (q.metrics.includes("exit_rate")) roles.push("exit_pages");
  return roles;
}

/** `visit:exit_page` filters become `event:page` filters: the views of the pages filtered on. */
function exitAsPage(f: Filter): Filter {
  if (f[0] === "and" || f[0] === "or") return [f[0], (f[1] as Filter[]).map(exitAsPage)];
  if (f[0] === "not") return ["not", exitAsPage(f[1] as Filter)];
  return f[1] === "visit:exit_page" ? [f[0], "event:page", f[2] as string[]] : f;
}

/**
 * The companion question. `totals`: the query's visitors (and, with a goal, all visitors) without
 * its dimensions or paging. `exit_pages`: pageviews per page under the query's filters, an exit-page
 * filter read as a page filter (Plausible's exit rate: exits ÷ the page's pageviews).
 */
export function companionQuery(q: ResolvedQuery, role: CompanionRole): ResolvedQuery {
  const base = { ...q, compare: null, offset: 0, include: { ...q.include, total_rows: false } };
  if (role === "totals") {
    const metrics: Metric[] = q.goals.length > 0 ? ["visitors", "conversion_rate"] : ["visitors"];
    return { ...base, metrics, dimensions: [], order_by: [], limit: 1 };
  }
  return {
    ...base,
    metrics: ["pageviews"],
    dimensions: ["event:page"],
    filters: q.filters.map(exitAsPage),
    order_by: [["event:page", "asc"]],
  };
}
