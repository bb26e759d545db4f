/**
 * Custom reports: a builder over the query language (`POST /api/v1/query`): metrics, up to four
 * dimensions (event properties included), its own filters, order and limit. The report lives in the
 * URL (`report=`), so it can be shared; saved reports live on the server, shared with the team.
 */
import { Card } from "../components/card.tsx";
import { useDash } from "../context.ts";
import "../styles/team.css";
import { parseJsonParam } from "../url-state.ts";
import { Builder } from "./custom-reports/builder.tsx";
import { DEFAULT_REPORT, type ReportDraft } from "./custom-reports/report.ts";
import { Results } from "./custom-reports/results.tsx";
import { SavedReports } from "./custom-reports/saved-list.tsx";

export function CustomReports() {
  const { state, navigate } = useDash();
  const report = parseJsonParam<ReportDraft | null>(state.params.get("report"), null);
  return (
    <div className="grid">
      <Card title="Build a report" wide testId="builder">
        <Builder
          key={state.params.get("report") ?? ""}
          initial={report ?? DEFAULT_REPORT}
          onRun={(r) => navigate({ report: JSON.stringify(r) })}
        />
      </Card>
      <Card title="Saved reports" testId="saved-reports">
        <SavedReports report={report} onOpen={(r) => navigate({ report: JSON.stringify(r) })} />
      </Card>
      <Card title="Results" wide testId="results">
        {report ? (
          <Results report={report} />
        ) : (
          <p className="muted">Choose metrics and dimensions, then run the report.</p>
        )}
      </Card>
    </div>
  );
}
