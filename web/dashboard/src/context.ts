/**
 * What every module needs: the URL state, the property and its token, what the caller may do there
 * (so a module hides what the role cannot do rather than offering it and failing), and queries that
 * carry the chosen date range, filters and comparison.
 */
import { createContext, useContext } from "react";
import type { Filter } from "../../../core/query/spec.ts";
import type { Access, Capability, Role } from "./api.ts";
import { type QueryResponse, type QuerySpecInput, runQuery } from "./api.ts";
import { dateRangeOf, type navigate, type ViewState } from "./url-state.ts";
import { type Loaded, useApi } from "./use-api.ts";

export interface Dash {
  state: ViewState;
  navigate: typeof navigate;
  property: string;
  /** The Bearer token, or api.ts's SESSION (the account's cookie) or ANONYMOUS (a public dashboard). */
  token: string;
  /** What the caller may do on this property (`GET …/access`). */
  capabilities: ReadonlySet<Capability>;
  /** Who the caller is: the admin token, an API key, an account, a shared link, a public dashboard. */
  principal: Access["principal"];
  /** The account's or key's role here; null for the admin token and the read-only principals. */
  role: Role | null;
}

/** Whether the dashboard's caller may do this (`write`, `people` …). */
export function useCan(capability: Capability): boolean {
  return useDash().capabilities.has(capability);
}

export const DashContext = createContext<Dash | null>(null);

export function useDash(): Dash {
  const dash = useContext(DashContext);
  if (!dash) throw new Error("useDash outside the dashboard");
  return dash;
}

export type QueryAsk = Omit<QuerySpecInput, "property_id" | "date_range" | "filters"> & {
  /** Overrides the date picker (the live stream asks for the last minutes). */
  date_range?: QuerySpecInput["date_range"];
  /** Added to the filter bar's filters. */
  filters?: Filter[];
  /** false: this question ignores the comparison toggle. */
  comparable?: boolean;
  /** false: this question ignores the filter bar. */
  filtered?: boolean;
};

/** The full query a module's question becomes under the current state. */
export function specOf(dash: Dash, ask: QueryAsk): QuerySpecInput {
  const { comparable = true, filtered = true, filters = [], date_range, ...rest } = ask;
  return {
    ...rest,
    property_id: dash.property,
    date_range: date_range ?? dateRangeOf(dash.state),
    filters: [...(filtered ? dash.state.filters : []), ...filters],
    ...(comparable && dash.state.compare ? { compare: dash.state.compare } : {}),
  };
}

/** Runs a query under the current state (null: not now). */
export function useQuery(ask: QueryAsk | null): Loaded<QueryResponse> {
  const dash = useDash();
  const spec = ask ? specOf(dash, ask) : null;
  return useApi(spec ? `query:${JSON.stringify(spec)}` : null, (signal) =>
    runQuery(dash.token, spec as QuerySpecInput, signal),
  );
}
