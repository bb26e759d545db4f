/**
 * Custom reports: a builder over the query language (`POST /api/v1/query`): metrics, up to four
 * dimensions (event properties included), its own filters, order and limit. The report lives in the
 * URL (`report=`), so it can be shared; saved reports are kept in this browser, per property.
 */
import { type FormEvent, useState } from "react";
import { Card } from "../components/card.tsx";
import { useDash } from "../context.ts";
import { parseJsonParam } from "../url-state.ts";
import { Builder } from "./custom-reports/builder.tsx";
import { DEFAULT_REPORT, type ReportDraft } from "./custom-reports/report.ts";
import { Results } from "./custom-reports/results.tsx";
import { useSavedReports } from "./custom-reports/saved-reports.ts";

export function CustomReports() {
  const { state, navigate, property } = useDash();
  const report = parseJsonParam<ReportDraft | null>(state.params.get("report"), null);
  const { saved, save, remove } = useSavedReports(property);
  const [name, setName] = useState("");
  const submitSave = (e: FormEvent) => {
    e.preventDefault();
    if (!report || !name.trim()) return;
    save(name.trim(), report);
    setName("");
  };
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
        {saved.length === 0 ? (
          <p className="muted">Reports you save appear here (kept in this browser).</p>
        ) : (
          <ul className="saved">
            {saved.map((s) => (
              <li key={s.name}>
                <button type="button" className="link" onClick={() => navigate({ report: JSON.stringify(s.report) })}>
                  {s.name}
                </button>
                <button
                  type="button"
                  className="link danger"
                  aria-label={`Delete saved report ${s.name}`}
                  onClick={() => remove(s.name)}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
        )}
        {report && (
          <form className="inline-form" onSubmit={submitSave}>
            <label>
              <span className="visually-hidden">Report name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Name this report" required />
            </label>
            <button type="submit">Save report</button>
          </form>
        )}
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
