/** Goals: conversions (and revenue, where goals earn any) per goal, and adding or deleting them. */
import { type FormEvent, useState } from "react";
import { api, explain, type Goal, type GoalsReport, type QueryResponse } from "../../api.ts";
import { DataTable } from "../../components/data-table.tsx";
import { Async, ErrorBox } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { formatMoney } from "../../format.ts";
import { withFilter } from "../../url-state.ts";
import { forgetAnswers, type Loaded } from "../../use-api.ts";
import { type GoalRevenue, revenueOf, useChosenCurrency, useGoalRevenue } from "./goal-revenue.ts";
import { useReport } from "./report.ts";

export function Goals({ goals }: { goals: readonly Goal[] }) {
  const dash = useDash();
  const loaded = useReport<GoalsReport>("goals");
  const revenueLoaded = useGoalRevenue(goals);
  const revenue = revenueLoaded.data ? revenueOf(revenueLoaded.data, goals) : undefined;
  const money = (v: number | undefined) => (v ? formatMoney(v, revenue?.currency ?? "") : "–");
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
            ...(revenue?.any
              ? [
                  { key: "total_revenue", label: "Revenue", format: money },
                  { key: "average_revenue", label: "Average revenue", format: money },
                ]
              : []),
          ]}
          rows={data.rows.map((r) => {
            const earned = revenue?.byGoal.get(r.goal);
            return {
              key: r.goal,
              label: r.goal,
              values: {
                visitors: r.visitors,
                events: r.events,
                conversion_rate: r.conversion_rate,
                ...(earned ? { total_revenue: earned.total, average_revenue: earned.average } : {}),
              },
            };
          })}
          csvName="goals"
          pickHint="Show only visitors who completed this goal"
          onPick={(goal) => {
            dash.navigate({ filters: JSON.stringify(withFilter(dash.state.filters, "event:goal", goal)) });
          }}
          footer={<RevenueNote loaded={revenueLoaded} revenue={revenue} />}
        />
      )}
    </Async>
  );
}

/** Which currency the amounts are in and which were left out (with a switch to them), or why revenue is missing. */
function RevenueNote({ loaded, revenue }: { loaded: Loaded<QueryResponse>; revenue: GoalRevenue | undefined }) {
  const { navigate } = useDash();
  const chosen = useChosenCurrency();
  if (loaded.error) return <p className="note">Revenue could not be loaded: {explain(loaded.error).detail}</p>;
  if (!revenue || (!revenue.any && revenue.others.length === 0 && !chosen)) return null;
  const options = [...new Set([revenue.currency, ...revenue.others])].filter(Boolean).sort();
  return (
    <div className="note revenue-note" data-testid="revenue-note">
      <label className="control">
        Revenue in{" "}
        <select
          value={revenue.currency}
          onChange={(e) => navigate({ currency: e.target.value }, { replace: true })}
          data-testid="revenue-currency"
        >
          {options.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
      {revenue.others.length > 0 && (
        <span>
          {" "}
          — amounts recorded in {revenue.others.join(", ")} are not converted, so they are left out; pick one to see
          them.
        </span>
      )}
    </div>
  );
}

export function GoalManager({ goals, onChange }: { goals: Goal[]; onChange: () => void }) {
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
