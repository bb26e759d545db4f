/** Conversions: goals (with their management), funnels with drop-off, and weekly retention cohorts. */
import { useState } from "react";
import { api, type Goal } from "../api.ts";
import { Card } from "../components/card.tsx";
import { ErrorBox } from "../components/status.tsx";
import { useDash } from "../context.ts";
import { useApi } from "../use-api.ts";
import { Funnel } from "./conversions/funnel.tsx";
import { GoalManager, Goals } from "./conversions/goals.tsx";
import { Retention } from "./conversions/retention.tsx";

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
              <Goals key={version} goals={list} />
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
