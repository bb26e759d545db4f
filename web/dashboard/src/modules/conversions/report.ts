import { api } from "../../api.ts";
import { type Dash, useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";

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

export function useReport<T>(report: string, extra: Record<string, string> = {}, filtered = true) {
  const dash = useDash();
  const path = reportPath(dash, report, extra, filtered);
  return useApi(`report:${path}`, (signal) => api<T>(dash.token, path, { signal }));
}
