/**
 * Revenue per goal from the query API (`total_revenue`, `average_revenue`), in one currency: the
 * property's unless the URL's `currency` picks another. Amounts recorded in other currencies are not
 * converted; the API lists them in `meta.other_currencies`, so the panel can say so and offer them.
 *
 * One query for all goals: revenue rides on custom events, and an event goal is exactly its event
 * name, so the events of every event goal broken down by `event:name` give each goal's figures
 * (page goals match pageviews, which carry none). A query per goal would cost the property's query
 * allowance once per goal.
 */
import type { Goal, QueryResponse } from "../../api.ts";
import { useDash, useQuery } from "../../context.ts";
import type { Loaded } from "../../use-api.ts";

export interface GoalRevenue {
  /** Goal name → total and average revenue, in `currency`. */
  byGoal: Map<string, { total: number; average: number }>;
  currency: string;
  /** Other currencies revenue was recorded in during the period (left out of the figures). */
  others: string[];
  /** Whether any goal earned anything in the period: the columns are shown only then. */
  any: boolean;
}

const CURRENCY = /^[A-Z]{3}$/;

/** The currency the answer's amounts are in, and the others the API says were present. */
export function currencyOf(answer: QueryResponse): { currency: string; others: string[] } {
  const currency = answer.meta.currency ?? "";
  return { currency, others: (answer.meta.other_currencies ?? []).filter((c) => c !== currency) };
}

const eventGoals = (goals: readonly Goal[]) => goals.filter((g) => g.kind === "event" && g.event_name);

/** Each event goal's revenue (from its event name's row), with the currency. */
export function revenueOf(answer: QueryResponse, goals: readonly Goal[]): GoalRevenue {
  const byEvent = new Map(answer.results.map((r) => [r.dimensions[0] ?? "", r.metrics]));
  const byGoal = new Map<string, { total: number; average: number }>();
  for (const g of eventGoals(goals)) {
    const row = byEvent.get(g.event_name ?? "");
    if (row) byGoal.set(g.name, { total: row[0] ?? 0, average: row[1] ?? 0 });
  }
  const any = [...byGoal.values()].some((v) => v.total !== 0);
  return { byGoal, any, ...currencyOf(answer) };
}

/** The chosen currency (`?currency=EUR`), or undefined for the property's own. */
export function useChosenCurrency(): string | undefined {
  const chosen = useDash().state.params.get("currency") ?? "";
  return CURRENCY.test(chosen) ? chosen : undefined;
}

/** Revenue of the event goals' events under the dashboard's range and filters (null: no event goals). */
export function useGoalRevenue(goals: readonly Goal[]): Loaded<QueryResponse> {
  const currency = useChosenCurrency();
  const names = eventGoals(goals).map((g) => g.name);
  return useQuery(
    names.length === 0
      ? null
      : {
          metrics: ["total_revenue", "average_revenue"],
          dimensions: ["event:name"],
          filters: [["is", "event:goal", names]],
          limit: 1_000,
          comparable: false,
          ...(currency ? { include: { currency } } : {}),
        },
  );
}
