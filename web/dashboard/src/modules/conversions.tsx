/** Conversions: goals (with their management), funnels with drop-off, and weekly retention cohorts. */
import { type CSSProperties, type FormEvent, useState } from "react";
import type { FunnelStep } from "../../../../core/query-funnel.ts";
import { api, type FunnelReport, type Goal, type GoalsReport, type RetentionReport } from "../api.ts";
import { Card } from "../components/card.tsx";
import { DataTable } from "../components/data-table.tsx";
import { Async, ErrorBox } from "../components/status.tsx";
import { type Dash, useDash } from "../context.ts";
import { download, formatMetric, toCsv } from "../format.ts";
import { parseJsonParam, withFilter } from "../url-state.ts";
import { forgetAnswers, useApi } from "../use-api.ts";

/** `/api/v1/reports?…` for a report under the current range (and filters, where the report takes them). */
export function reportPath(dash: Dash, report: string, extra: Record<string, string> = {}, filtered = true): string {
  const { state } = dash;
  const params = new URLSearchParams({ property: dash.property, report, ...extra });
  if (state.range === "custom") {
    params.set("start", state.from);
    params.set("end", state.to);
  } else params.set("date_range", state.range);
  if (filtered && state.filters.length) params.set("filters", JSON.stringify(state.filters));
  return `/api/v1/reports?${params}`;
}

function useReport<T>(report: string, extra: Record<string, string> = {}, filtered = true) {
  const dash = useDash();
  const path = reportPath(dash, report, extra, filtered);
  return useApi(`report:${path}`, (signal) => api<T>(dash.token, path, { signal }));
}

function Goals() {
  const dash = useDash();
  const loaded = useReport<GoalsReport>("goals");
  return (
    <Async
      loaded={loaded}
      isEmpty={(d) => d.rows.length === 0}
      empty="This property has no goals yet. Add one below: a page path such as /signup/** or a custom event name."
    >
      {(data) => (
        <DataTable
          keyLabel="Goal"
          columns={[
            { key: "visitors", label: "Converted visitors" },
            { key: "events", label: "Conversions" },
            { key: "conversion_rate", label: "Conversion rate" },
          ]}
          rows={data.rows.map((r) => ({
            key: r.goal,
            label: r.goal,
            values: { visitors: r.visitors, events: r.events, conversion_rate: r.conversion_rate },
          }))}
          csvName="goals"
          pickHint="Show only visitors who completed this goal"
          onPick={(goal) => {
            dash.navigate({ filters: JSON.stringify(withFilter(dash.state.filters, "event:goal", goal)) });
          }}
        />
      )}
    </Async>
  );
}

function GoalManager({ goals, onChange }: { goals: Goal[]; onChange: () => void }) {
  const { property, token } = useDash();
  const [kind, setKind] = useState<"page" | "event">("event");
  const [name, setName] = useState("");
  const [target, setTarget] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const base = `/api/v1/properties/${encodeURIComponent(property)}/goals`;
  const act = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      forgetAnswers("report:");
      onChange();
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    const goal = kind === "page" ? { name, kind, page_path: target } : { name, kind, event_name: target };
    if (await act(() => api(token, base, { body: goal }))) {
      setName("");
      setTarget("");
    }
  };
  return (
    <details className="goal-manager">
      <summary>Manage goals ({goals.length})</summary>
      <ul className="goal-list">
        {goals.map((g) => (
          <li key={g.name}>
            <span>
              <strong>{g.name}</strong>{" "}
              <span className="muted">{g.kind === "page" ? `page ${g.page_path}` : `event ${g.event_name}`}</span>
            </span>
            <button
              type="button"
              className="link danger"
              disabled={busy}
              aria-label={`Delete goal ${g.name}`}
              onClick={() => act(() => api(token, `${base}/${encodeURIComponent(g.name)}`, { method: "DELETE" }))}
            >
              Delete
            </button>
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={add}>
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={120} />
        </label>
        <label>
          Kind
          <select value={kind} onChange={(e) => setKind(e.target.value as "page" | "event")}>
            <option value="event">Custom event</option>
            <option value="page">Page visit</option>
          </select>
        </label>
        <label>
          {kind === "page" ? "Page path (* and ** allowed)" : "Event name"}
          <input
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            required
            placeholder={kind === "page" ? "/signup/**" : "signup"}
          />
        </label>
        <button type="submit" disabled={busy}>
          Add goal
        </button>
      </form>
      {error !== undefined && <ErrorBox error={error} />}
    </details>
  );
}

const WINDOWS = [
  { seconds: 3_600, label: "within 1 hour" },
  { seconds: 86_400, label: "within 1 day" },
  { seconds: 7 * 86_400, label: "within 7 days" },
  { seconds: 30 * 86_400, label: "within 30 days" },
];

/** A starting funnel: the home page, then the property's exact-path page goals, then its event goals. */
function defaultSteps(goals: Goal[]): FunnelStep[] {
  const pages = goals
    .filter((g) => g.kind === "page" && g.page_path && g.page_path !== "/" && !g.page_path.includes("*"))
    .map((g): FunnelStep => ({ kind: "page", value: g.page_path ?? "/", label: g.name }));
  const events = goals
    .filter((g) => g.kind === "event" && g.event_name)
    .map((g): FunnelStep => ({ kind: "event", value: g.event_name ?? g.name, label: g.name }));
  const home: FunnelStep = { kind: "page", value: "/", label: "Home" };
  return [home, ...pages.slice(0, 2), ...events.slice(0, 2)];
}

function Funnel({ goals }: { goals: Goal[] }) {
  const { state, navigate } = useDash();
  const steps = parseJsonParam<FunnelStep[]>(state.params.get("funnel"), defaultSteps(goals));
  const windowSeconds = Number(state.params.get("funnel_window")) || 86_400;
  const [draft, setDraft] = useState(steps);
  const valid = draft.length >= 2 && draft.every((s) => s.value && (s.kind === "event" || s.value.startsWith("/")));
  const loaded = useReport<FunnelReport>(
    "funnel",
    { steps: JSON.stringify(steps), window_seconds: String(windowSeconds) },
    false,
  );
  const update = (i: number, patch: Partial<FunnelStep>) =>
    setDraft((d) => d.map((s, j) => (j === i ? ({ ...s, ...patch } as FunnelStep) : s)));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const clean = draft.map(({ kind, value, label }) => ({ kind, value, ...(label ? { label } : {}) }));
    navigate({ funnel: JSON.stringify(clean) });
  };
  return (
    <>
      <form className="funnel-editor" onSubmit={apply} aria-label="Funnel steps">
        <ol>
          {draft.map((s, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: steps are positional; their text is being edited.
            <li key={i}>
              <select
                aria-label={`Step ${i + 1} kind`}
                value={s.kind}
                onChange={(e) => update(i, { kind: e.target.value as "page" | "event" })}
              >
                <option value="page">Page</option>
                <option value="event">Event</option>
              </select>
              <input
                aria-label={`Step ${i + 1} ${s.kind === "page" ? "path" : "event name"}`}
                value={s.value}
                onChange={(e) => update(i, { value: e.target.value })}
                placeholder={s.kind === "page" ? "/pricing" : "signup"}
              />
              <button
                type="button"
                className="link"
                aria-label={`Remove step ${i + 1}`}
                disabled={draft.length <= 2}
                onClick={() => setDraft((d) => d.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ol>
        <div className="inline-form">
          <button
            type="button"
            disabled={draft.length >= 8}
            onClick={() => setDraft((d) => [...d, { kind: "page", value: "/" }])}
          >
            Add step
          </button>
          <label>
            <span className="visually-hidden">Window</span>
            <select
              value={windowSeconds}
              onChange={(e) => navigate({ funnel_window: e.target.value }, { replace: true })}
            >
              {WINDOWS.map((w) => (
                <option key={w.seconds} value={w.seconds}>
                  {w.label}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" className="primary" disabled={!valid}>
            Show funnel
          </button>
        </div>
      </form>
      <Async loaded={loaded}>
        {(data) => {
          const first = data.steps[0]?.visitors ?? 0;
          if (first === 0) return <p className="state empty">Nobody took the first step in this period.</p>;
          return (
            <>
              <ol className="funnel" data-testid="funnel">
                {data.steps.map((s) => (
                  <li key={s.step}>
                    <div className="funnel-label">
                      <strong>{s.label}</strong>
                      <span>
                        {formatMetric("visitors", s.visitors)} visitors ·{" "}
                        {formatMetric("conversion_rate", s.conversion_rate)}
                      </span>
                    </div>
                    <div className="funnel-bar" style={{ width: `${(s.visitors / first) * 100}%` }} />
                    {s.step > 1 && (
                      <div className="drop">
                        {formatMetric("visitors", s.drop_off)} dropped off (
                        {formatMetric("drop_off_rate", s.drop_off_rate)})
                      </div>
                    )}
                  </li>
                ))}
              </ol>
              <div className="table-foot">
                <button
                  type="button"
                  className="link csv"
                  onClick={() =>
                    download(
                      "funnel.csv",
                      toCsv(
                        ["step", "label", "visitors", "conversion_rate", "drop_off", "drop_off_rate"],
                        data.steps.map((s) => [
                          s.step,
                          s.label,
                          s.visitors,
                          s.conversion_rate,
                          s.drop_off,
                          s.drop_off_rate,
                        ]),
                      ),
                    )
                  }
                >
                  Export CSV
                </button>
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}

function Retention() {
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
              <button
                type="button"
                className="link csv"
                onClick={() =>
                  download(
                    "retention.csv",
                    toCsv(
                      header,
                      data.cohorts.map((c) => [c.cohort, c.visitors, ...c.retention]),
                    ),
                  )
                }
              >
                Export CSV
              </button>
            </div>
          </div>
        );
      }}
    </Async>
  );
}

export function Conversions() {
  const { property, token, state } = useDash();
  const [version, setVersion] = useState(0);
  const goals = useApi(`goals:${property}:${version}`, (signal) =>
    api<{ goals: Goal[] }>(token, `/api/v1/properties/${encodeURIComponent(property)}/goals`, { signal }),
  );
  const list = goals.data?.goals ?? [];
  const note = state.filters.length > 0 && (
    <p className="note">Funnels and retention count every visitor: the filters above do not apply to them.</p>
  );
  return (
    <div className="grid">
      <Card title="Goals" wide testId="goals">
        {goals.error ? (
          <ErrorBox error={goals.error} onRetry={goals.reload} />
        ) : (
          goals.data && (
            <>
              <Goals key={version} />
              <GoalManager goals={list} onChange={() => setVersion((v) => v + 1)} />
            </>
          )
        )}
      </Card>
      <Card title="Funnel" wide testId="funnel-card">
        {note}
        {goals.data && <Funnel key={property} goals={list} />}
      </Card>
      <Card title="Retention by weekly cohort" wide testId="retention-card">
        {note}
        <Retention />
      </Card>
    </div>
  );
}
