/**
 * A custom report's definition, apart from its view: what the builder offers, what a run submits,
 * and the query a report asks of `POST /api/v1/query`.
 */
import type { Filter, FilterOperator, Metric } from "../../../../../core/query/spec.ts";
import type { QueryAsk } from "../../context.ts";
import { PLAIN_DIMENSIONS, TIME_DIMENSION_LABELS } from "../../format.ts";

/** A report as the builder edits it and the URL's `report=` holds it. */
export interface ReportDraft {
  metrics: Metric[];
  dimensions: string[];
  filters: Filter[];
  order_by?: [string, "asc" | "desc"][];
  limit: number;
}

export const DEFAULT_REPORT: ReportDraft = {
  metrics: ["visitors", "pageviews"],
  dimensions: ["event:page"],
  filters: [],
  limit: 50,
};
export const OPERATORS: FilterOperator[] = ["is", "is_not", "contains", "contains_not", "matches", "matches_not"];
export const DIMENSION_CHOICES = [...PLAIN_DIMENSIONS, ...(Object.keys(TIME_DIMENSION_LABELS) as string[])];
/** Prefix of an event-property dimension; alone, it is a slot whose key is not typed yet. */
export const PROPERTY_PREFIX = "event:props:";

/** What a run submits: unfinished dimension slots dropped, and an order only by a column still in the report. */
export function finishDraft(draft: ReportDraft): ReportDraft {
  const dimensions = draft.dimensions.filter((d) => d && d !== PROPERTY_PREFIX);
  const keys = [...draft.metrics, ...dimensions];
  return { ...draft, dimensions, order_by: draft.order_by?.filter(([k]) => keys.includes(k)) };
}

/** A filter's values as typed: comma-separated, trimmed, empties dropped. */
export function parseFilterValues(text: string): string[] {
  return text
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
}

/** The question a report asks, on top of the dashboard's range and filters, with the total row count. */
export function reportAsk(report: ReportDraft): QueryAsk {
  return {
    metrics: report.metrics,
    // The builder's dimensions are free text (event property keys); the API validates them.
    dimensions: report.dimensions as never,
    filters: report.filters,
    ...(report.order_by?.length ? { order_by: report.order_by } : {}),
    limit: report.limit,
    include: { total_rows: true },
  };
}
