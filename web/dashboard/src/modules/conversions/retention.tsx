/** The weekly retention cohort grid. */
import type { CSSProperties } from "react";
import type { RetentionReport } from "../../api.ts";
import { CsvButton } from "../../components/csv-button.tsx";
import { Async } from "../../components/status.tsx";
import { formatMetric } from "../../format.ts";
import { useReport } from "./report.ts";

export function Retention() {
  const loaded = useReport<RetentionReport>("retention", { weeks: "8" }, false);
  return (
    <Async
      loaded={loaded}
      isEmpty={(d) => d.cohorts.length === 0}
      empty="No visitors in this period to follow week by week."
    >
      {(data) => {
        const weeks = Math.max(0, ...data.cohorts.map((c) => c.retention.length));
        const header = ["cohort", "visitors", ...Array.from({ length: weeks }, (_, k) => `week_${k}`)];
        return (
          <div className="table-wrap">
            <table className="data cohorts" data-testid="retention">
              <caption className="visually-hidden">Share of each weekly cohort seen again in later weeks</caption>
              <thead>
                <tr>
                  <th scope="col">Cohort (week of first visit)</th>
                  <th scope="col" className="num">
                    Visitors
                  </th>
                  {Array.from({ length: weeks }, (_, k) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: week offsets are the keys.
                    <th scope="col" key={k} className="num">
                      Week {k}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {data.cohorts.map((c) => (
                  <tr key={c.cohort}>
                    <th scope="row">{c.cohort}</th>
                    <td className="num">{formatMetric("visitors", c.visitors)}</td>
                    {Array.from({ length: weeks }, (_, k) => {
                      const v = c.retention[k];
                      return (
                        // biome-ignore lint/suspicious/noArrayIndexKey: week offsets are the keys.
                        <td key={k} className="num cell" style={{ "--v": v ?? 0 } as CSSProperties}>
                          {v === undefined ? "" : formatMetric("retention", v)}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
            <div className="table-foot">
              <CsvButton
                filename="retention.csv"
                header={header}
                rows={() => data.cohorts.map((c) => [c.cohort, c.visitors, ...c.retention])}
              />
            </div>
          </div>
        );
      }}
    </Async>
  );
}
