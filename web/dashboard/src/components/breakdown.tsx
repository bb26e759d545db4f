/**
 * One dimension broken down by its metrics under the current range, filters and comparison; a
 * click on a row filters the dashboard by that value.
 */
import { useState } from "react";
import type { Filter, Metric } from "../../../../core/query/spec.ts";
import type { QueryResponse } from "../api.ts";
import { useDash, useQuery } from "../context.ts";
import { dimensionLabel, displayValue, METRIC_LABELS } from "../format.ts";
import { withFilter } from "../url-state.ts";
import { DataTable, type TableRow } from "./data-table.tsx";
import { Async } from "./status.tsx";

/** Table rows from a one-dimension answer, with the comparison matched by value. */
export function rowsOf(dimension: string, answer: QueryResponse, metrics: readonly string[]): TableRow[] {
  const previous = new Map((answer.comparison ?? []).map((r) => [r.dimensions[0] ?? "", r.metrics]));
  return answer.results.map((r) => {
    const key = r.dimensions[0] ?? "";
    const before = previous.get(key);
    return {
      key,
      label: displayValue(dimension, key),
      values: Object.fromEntries(metrics.map((m, i) => [m, r.metrics[i] ?? 0])),
      ...(answer.comparison ? { previous: Object.fromEntries(metrics.map((m, i) => [m, before?.[i] ?? 0])) } : {}),
    };
  });
}

export interface BreakdownProps {
  dimension: string;
  metrics: Metric[];
  /** Added to the dashboard's filters for this table only. */
  filters?: Filter[];
  limit?: number;
  csvName: string;
  empty?: string;
}

export function Breakdown({ dimension, metrics, filters, limit = 10, csvName, empty }: BreakdownProps) {
  const dash = useDash();
  const [rows, setRows] = useState(limit);
  const loaded = useQuery({
    metrics,
    dimensions: [dimension] as never,
    filters: filters ?? [],
    order_by: [[metrics[0] ?? "visitors", "desc"]],
    limit: rows,
    include: { total_rows: true },
  });
  return (
    <Async loaded={loaded} isEmpty={(d) => d.results.length === 0} empty={empty}>
      {(data) => (
        <DataTable
          keyLabel={dimensionLabel(dimension)}
          csvKey={dimension.slice(dimension.lastIndexOf(":") + 1)}
          columns={metrics.map((m) => ({ key: m, label: METRIC_LABELS[m] }))}
          rows={rowsOf(dimension, data, metrics)}
          comparing={Boolean(data.comparison)}
          csvName={csvName}
          onPick={(value) =>
            dash.navigate({ filters: JSON.stringify(withFilter(dash.state.filters, dimension, value)) })
          }
          caption={`${dimensionLabel(dimension)} by ${metrics.map((m) => METRIC_LABELS[m]).join(", ")}`}
          footer={
            (data.meta.total_rows ?? 0) > data.results.length && (
              <button type="button" className="link" onClick={() => setRows((n) => Math.min(n * 5, 1000))}>
                Show more ({data.meta.total_rows} in all)
              </button>
            )
          }
        />
      )}
    </Async>
  );
}
