/** A custom report's results, run through the query API under the dashboard's range and filters. */
import { useMemo } from "react";
import { CsvButton } from "../../components/csv-button.tsx";
import { Async } from "../../components/status.tsx";
import { bucketSeconds, TimeChart } from "../../components/time-chart.tsx";
import { specOf, useDash, useQuery } from "../../context.ts";
import {
  dimensionLabel,
  displayValue,
  formatMetric,
  formatMoney,
  METRIC_LABELS,
  REVENUE_METRICS,
} from "../../format.ts";
import { type ReportDraft, reportAsk } from "./report.ts";

/** The report's answer: the API call it makes, a chart when it is over time alone, the table and its CSV. */
export function Results({ report }: { report: ReportDraft }) {
  const dash = useDash();
  const ask = reportAsk(report);
  const loaded = useQuery(ask);
  const onlyTime = report.dimensions.length === 1 && report.dimensions[0]?.startsWith("time:");
  const chart = useMemo(() => {
    if (!onlyTime || !loaded.data) return undefined;
    const x = loaded.data.results.map((r) => bucketSeconds(r.dimensions[0] ?? ""));
    return {
      x,
      series: [
        {
          label: METRIC_LABELS[report.metrics[0] ?? "visitors"],
          values: loaded.data.results.map((r) => r.metrics[0] ?? 0),
        },
      ],
    };
  }, [onlyTime, loaded.data, report.metrics]);
  const header = [...report.dimensions, ...report.metrics];
  return (
    <>
      <details className="api-call">
        <summary>This report as an API call</summary>
        <pre>{JSON.stringify(specOf(dash, ask), null, 2)}</pre>
      </details>
      <Async loaded={loaded} isEmpty={(d) => d.results.length === 0}>
        {(data) => (
          <>
            {chart && (
              <TimeChart
                x={chart.x}
                series={chart.series}
                wallClock
                annotated
                format={(v) => formatMetric(report.metrics[0] ?? "", v, true)}
                label="Report over time"
              />
            )}
            <div className="table-wrap">
              <table className="data" data-testid="custom-results">
                <thead>
                  <tr>
                    {report.dimensions.map((d) => (
                      <th scope="col" key={d}>
                        {dimensionLabel(d)}
                      </th>
                    ))}
                    {report.metrics.map((m) => (
                      <th scope="col" key={m} className="num">
                        {METRIC_LABELS[m]}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {data.results.map((r) => (
                    <tr key={r.dimensions.join("\u0000") || "total"}>
                      {r.dimensions.map((v, i) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional.
                        <td key={i}>{displayValue(report.dimensions[i] ?? "", v)}</td>
                      ))}
                      {r.metrics.map((v, i) => (
                        // biome-ignore lint/suspicious/noArrayIndexKey: columns are positional.
                        <td key={i} className="num">
                          {REVENUE_METRICS.has(report.metrics[i] ?? "") && data.meta.currency
                            ? formatMoney(v, data.meta.currency)
                            : formatMetric(report.metrics[i] ?? "", v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="table-foot">
                <span className="muted">
                  {data.results.length} of {data.meta.total_rows ?? data.results.length} rows · {data.meta.plan}
                  {data.meta.currency &&
                    ` · revenue in ${data.meta.currency}${data.meta.other_currencies?.length ? ` (left out, not converted: ${data.meta.other_currencies.join(", ")})` : ""}`}
                </span>
                <CsvButton
                  filename="custom-report.csv"
                  header={header}
                  rows={() => data.results.map((r) => [...r.dimensions, ...r.metrics])}
                />
              </div>
            </div>
          </>
        )}
      </Async>
    </>
  );
}
