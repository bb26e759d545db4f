/**
 * New vs returning (`visit:visitor_type`, decided per visit): a bar splitting the visits between the
 * two, and the table behind it (visitors, visits, share of visitors), whose rows filter the dashboard.
 * The bar splits visits because each visit is one or the other, while a visitor who came back in the
 * period is in both rows, so visitor shares may add up to more than 100%.
 */
import type { CSSProperties } from "react";
import type { Metric } from "../../../../../core/query/spec.ts";
import { rowsOf } from "../../components/breakdown.tsx";
import { DataTable } from "../../components/data-table.tsx";
import { Async } from "../../components/status.tsx";
import { useDash, useQuery } from "../../context.ts";
import { formatMetric } from "../../format.ts";
import { withFilter } from "../../url-state.ts";

const DIMENSION = "visit:visitor_type";
const METRICS: Metric[] = ["visitors", "visits", "percentage"];
/** Always new first, so the bar and the table keep their order whichever group is larger. */
const ORDER = ["new", "returning"];

export function VisitorTypes() {
  const dash = useDash();
  const loaded = useQuery({ metrics: METRICS, dimensions: [DIMENSION], limit: 10 });
  return (
    <Async loaded={loaded} isEmpty={(d) => d.results.length === 0}>
      {(data) => {
        const rows = rowsOf(DIMENSION, data, METRICS).sort((a, b) => ORDER.indexOf(a.key) - ORDER.indexOf(b.key));
        const total = rows.reduce((n, r) => n + (r.values.visits ?? 0), 0);
        return (
          <>
            <div className="split">
              <span className="split-title">Visits</span>
              <div className="split-bar" data-testid="visitor-type-split">
                {rows.map((r) => {
                  const share = total ? (r.values.visits ?? 0) / total : 0;
                  return (
                    <span
                      key={r.key}
                      className={`split-part ${r.key}`}
                      style={{ "--part": share } as CSSProperties}
                      title={`${r.label}: ${formatMetric("visits", r.values.visits)} visits`}
                    >
                      {r.label} {formatMetric("percentage", share)}
                    </span>
                  );
                })}
              </div>
            </div>
            <DataTable
              keyLabel="Visitor type"
              csvKey="visitor_type"
              columns={[
                { key: "visitors", label: "Visitors" },
                { key: "visits", label: "Visits" },
                { key: "percentage", label: "% of visitors" },
              ]}
              rows={rows}
              comparing={Boolean(data.comparison)}
              csvName="visitor-types"
              caption="New and returning visitors"
              pickHint="Show only these visitors"
              onPick={(value) =>
                dash.navigate({ filters: JSON.stringify(withFilter(dash.state.filters, DIMENSION, value)) })
              }
            />
            <p className="note">
              A visit is returning when its visitor had visited before; a visitor who came back in this period counts in
              both rows.
            </p>
          </>
        );
      }}
    </Async>
  );
}
