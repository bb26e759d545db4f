/**
 * Custom reports: a builder over the query language (`POST /api/v1/query`): metrics, up to four
 * dimensions (event properties included), its own filters, order and limit. The report lives in the
 * URL (`report=`), so it can be shared; saved reports are kept in this browser, per property.
 */
import { type FormEvent, useMemo, useState } from "react";
import type { Filter, FilterOperator, Metric } from "../../../../core/query/spec.ts";
import { Card } from "../components/card.tsx";
import { describeFilter } from "../components/controls.tsx";
import { CsvButton } from "../components/csv-button.tsx";
import { Async } from "../components/status.tsx";
import { bucketSeconds, TimeChart } from "../components/time-chart.tsx";
import { specOf, useDash, useQuery } from "../context.ts";
import {
  dimensionLabel,
  displayValue,
  formatMetric,
  METRIC_LABELS,
  METRICS,
  PLAIN_DIMENSIONS,
  TIME_DIMENSION_LABELS,
} from "../format.ts";
import { parseJsonParam } from "../url-state.ts";

export interface ReportDraft {
  metrics: Metric[];
  dimensions: string[];
  filters: Filter[];
  order_by?: [string, "asc" | "desc"][];
  limit: number;
}

const DEFAULT: ReportDraft = { metrics: ["visitors", "pageviews"], dimensions: ["event:page"], filters: [], limit: 50 };
const OPERATORS: FilterOperator[] = ["is", "is_not", "contains", "contains_not", "matches", "matches_not"];
const DIMENSION_CHOICES = [...PLAIN_DIMENSIONS, ...(Object.keys(TIME_DIMENSION_LABELS) as string[])];

const savedKey = (property: string) => `tally.reports.${property}`;
function loadSaved(property: string): { name: string; report: ReportDraft }[] {
  try {
    return JSON.parse(localStorage.getItem(savedKey(property)) ?? "[]");
  } catch {
    return [];
  }
}

function DimensionPicker({ value, onChange, index }: { value: string; onChange: (v: string) => void; index: number }) {
  const isProp = value.startsWith("event:props:");
  return (
    <span className="dim-pick">
      <select
        aria-label={`Dimension ${index + 1}`}
        value={isProp ? "event:props:" : value}
        onChange={(e) => onChange(e.target.value)}
      >
        <option value="">(none)</option>
        {DIMENSION_CHOICES.map((d) => (
          <option key={d} value={d}>
            {dimensionLabel(d)}
          </option>
        ))}
        <option value="event:props:">Event property…</option>
      </select>
      {isProp && (
        <input
          aria-label={`Dimension ${index + 1} property key`}
          value={value.slice("event:props:".length)}
          onChange={(e) => onChange(`event:props:${e.target.value}`)}
          placeholder="key"
        />
      )}
    </span>
  );
}

function Builder({ initial, onRun }: { initial: ReportDraft; onRun: (r: ReportDraft) => void }) {
  const [draft, setDraft] = useState(initial);
  const [newFilter, setNewFilter] = useState({ dim: "event:page", op: "contains" as FilterOperator, values: "" });
  const set = (patch: Partial<ReportDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const dims = [...draft.dimensions, ""].slice(0, 4);
  const orderKey = draft.order_by?.[0]?.[0] ?? "";
  const run = (e: FormEvent) => {
    e.preventDefault();
    const dimensions = draft.dimensions.filter((d) => d && d !== "event:props:");
    const keys = [...draft.metrics, ...dimensions];
    onRun({ ...draft, dimensions, order_by: draft.order_by?.filter(([k]) => keys.includes(k)) });
  };
  const addFilter = () => {
    const values = newFilter.values
      .split(",")
      .map((v) => v.trim())
      .filter(Boolean);
    if (values.length === 0) return;
    set({ filters: [...draft.filters, [newFilter.op, newFilter.dim, values] as Filter] });
    setNewFilter((f) => ({ ...f, values: "" }));
  };
  return (
    <form className="builder" onSubmit={run} aria-label="Report builder">
      <fieldset>
        <legend>Metrics</legend>
        {METRICS.map((m) => (
          <label key={m} className="check">
            <input
              type="checkbox"
              checked={draft.metrics.includes(m)}
              onChange={(e) =>
                set({
                  metrics: e.target.checked ? [...draft.metrics, m] : draft.metrics.filter((x) => x !== m),
                })
              }
            />
            {METRIC_LABELS[m]}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Break down by (up to 4)</legend>
        {dims.map((d, i) => (
          <DimensionPicker
            // biome-ignore lint/suspicious/noArrayIndexKey: dimension slots are positional.
            key={i}
            index={i}
            value={d}
            onChange={(v) => {
              const next = [...draft.dimensions];
              next[i] = v;
              set({ dimensions: next.filter(Boolean) });
            }}
          />
        ))}
      </fieldset>
      <fieldset>
        <legend>Filters (besides the dashboard's)</legend>
        <ul className="chips">
          {draft.filters.map((f, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: filters are positional (removed by index) and may repeat.
            <li key={`${i}:${JSON.stringify(f)}`} className="chip">
              {describeFilter(f)}
              <button
                type="button"
                aria-label={`Remove filter ${describeFilter(f)}`}
                onClick={() => set({ filters: draft.filters.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="inline-form">
          <select
            aria-label="Filter dimension"
            value={newFilter.dim}
            onChange={(e) => setNewFilter((f) => ({ ...f, dim: e.target.value }))}
          >
            {PLAIN_DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {dimensionLabel(d)}
              </option>
            ))}
            <option value="event:goal">Goal</option>
          </select>
          <select
            aria-label="Filter operator"
            value={newFilter.op}
            onChange={(e) => setNewFilter((f) => ({ ...f, op: e.target.value as FilterOperator }))}
          >
            {OPERATORS.map((o) => (
              <option key={o} value={o}>
                {o.replace("_", " ")}
              </option>
            ))}
          </select>
          <input
            aria-label="Filter values, separated by commas"
            placeholder="values, comma-separated"
            value={newFilter.values}
            onChange={(e) => setNewFilter((f) => ({ ...f, values: e.target.value }))}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addFilter();
              }
            }}
          />
          <button type="button" onClick={addFilter}>
            Add filter
          </button>
        </div>
      </fieldset>
      <div className="inline-form">
        <label>
          Order by
          <select
            value={orderKey}
            onChange={(e) =>
              set({ order_by: e.target.value ? [[e.target.value, draft.order_by?.[0]?.[1] ?? "desc"]] : undefined })
            }
          >
            <option value="">(default)</option>
            {[...draft.metrics, ...draft.dimensions.filter(Boolean)].map((k) => (
              <option key={k} value={k}>
                {k in METRIC_LABELS ? METRIC_LABELS[k as Metric] : dimensionLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="visually-hidden">Direction</span>
          <select
            value={draft.order_by?.[0]?.[1] ?? "desc"}
            disabled={!orderKey}
            onChange={(e) => set({ order_by: [[orderKey, e.target.value as "asc" | "desc"]] })}
          >
            <option value="desc">descending</option>
            <option value="asc">ascending</option>
          </select>
        </label>
        <label>
          Rows
          <input
            type="number"
            min={1}
            max={10000}
            value={draft.limit}
            onChange={(e) => set({ limit: Math.max(1, Math.min(10_000, Number(e.target.value) || 1)) })}
          />
        </label>
        <button type="submit" className="primary" disabled={draft.metrics.length === 0}>
          Run report
        </button>
      </div>
    </form>
  );
}

function Results({ report }: { report: ReportDraft }) {
  const dash = useDash();
  const ask = {
    metrics: report.metrics,
    dimensions: report.dimensions as never,
    filters: report.filters,
    ...(report.order_by?.length ? { order_by: report.order_by } : {}),
    limit: report.limit,
    include: { total_rows: true },
  };
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
                          {formatMetric(report.metrics[i] ?? "", v)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="table-foot">
                <span className="muted">
                  {data.results.length} of {data.meta.total_rows ?? data.results.length} rows · {data.meta.plan}
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

export function CustomReports() {
  const { state, navigate, property } = useDash();
  const report = parseJsonParam<ReportDraft | null>(state.params.get("report"), null);
  const [saved, setSaved] = useState(() => loadSaved(property));
  const [name, setName] = useState("");
  const store = (next: typeof saved) => {
    setSaved(next);
    try {
      localStorage.setItem(savedKey(property), JSON.stringify(next));
    } catch {
      // Kept for this page only.
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!report || !name.trim()) return;
    store([...saved.filter((s) => s.name !== name.trim()), { name: name.trim(), report }]);
    setName("");
  };
  return (
    <div className="grid">
      <Card title="Build a report" wide testId="builder">
        <Builder
          key={state.params.get("report") ?? ""}
          initial={report ?? DEFAULT}
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
                  onClick={() => store(saved.filter((x) => x.name !== s.name))}
                >
                  Delete
                </button>
              </li>
            ))}
          </ul>
        )}
        {report && (
          <form className="inline-form" onSubmit={save}>
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
