/** The funnel editor and its drop-off chart. */
import { type FormEvent, useState } from "react";
import type { FunnelStep } from "../../../../../core/query/funnel.ts";
import type { FunnelReport, Goal } from "../../api.ts";
import { CsvButton } from "../../components/csv-button.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { formatMetric } from "../../format.ts";
import { parseJsonParam } from "../../url-state.ts";
import { useReport } from "./report.ts";

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

export function Funnel({ goals }: { goals: Goal[] }) {
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
                <CsvButton
                  filename="funnel.csv"
                  header={["step", "label", "visitors", "conversion_rate", "drop_off", "drop_off_rate"]}
                  rows={() =>
                    data.steps.map((s) => [s.step, s.label, s.visitors, s.conversion_rate, s.drop_off, s.drop_off_rate])
                  }
                />
              </div>
            </>
          );
        }}
      </Async>
    </>
  );
}
