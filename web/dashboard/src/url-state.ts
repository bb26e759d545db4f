/**
 * Everything a view shows lives in the query string, so a URL can be shared, bookmarked and
 * navigated with Back: property, module, date range, comparison, filters and each module's choices.
 */
import { useCallback, useSyncExternalStore } from "react";
import type { DateRange, Filter } from "../../../core/query/spec.ts";
import type { Capability } from "../../../core/team/roles.ts";

/**
 * The modules, with what the caller needs to see each: reports only `read`; Alerts (rules, webhook)
 * `write`; Settings any of `people`, `manage`, `write`; Operations the admin token (`operate`).
 * `shared: false`: not offered on a shared link or public dashboard.
 * Operations stays the tenth view for the admin (key 0); Settings follows it.
 */
export const VIEWS = [
  { id: "overview", label: "Overview", needs: ["view"] },
  { id: "realtime", label: "Real-time", needs: ["view"] },
  { id: "audience", label: "Audience", needs: ["view"] },
  { id: "acquisition", label: "Acquisition", needs: ["view"] },
  { id: "behavior", label: "Behavior", needs: ["view"] },
  { id: "conversions", label: "Conversions", needs: ["view"] },
  { id: "custom", label: "Custom reports", needs: ["view"], shared: false },
  // Raw user agents and pages of filtered traffic: the operator's diagnosis, not a report to share.
  { id: "bots", label: "Bot traffic", needs: ["read"], shared: false },
  { id: "alerts", label: "Alerts", needs: ["write"] },
  // Pipeline-wide figures, not one property's: only the admin token may read them.
  { id: "operations", label: "Operations", needs: ["operate"] },
  { id: "settings", label: "Settings", needs: ["people", "manage", "write"] },
] as const satisfies readonly { id: string; label: string; needs: readonly Capability[]; shared?: boolean }[];
export type ViewId = (typeof VIEWS)[number]["id"];
export type View = (typeof VIEWS)[number];

/** Whether a caller with these capabilities sees a view (`shared`: on a shared link or public dashboard). */
export function mayView(view: View, capabilities: ReadonlySet<Capability>, shared = false): boolean {
  if (shared && "shared" in view && !view.shared) return false;
  return view.needs.some((c: Capability) => capabilities.has(c));
}

const ADMIN_TOKEN: ReadonlySet<Capability> = new Set(["view", "read", "write", "manage", "people", "own", "operate"]);
const API_KEY: ReadonlySet<Capability> = new Set(["view", "read", "write", "manage"]);

/**
 * The views shown in the navigation, for these capabilities; `true`/`false` as before roles: the
 * admin token, or an API key of the admin role.
 */
export function viewsFor(access: ReadonlySet<Capability> | boolean, shared = false): View[] {
  const capabilities = typeof access === "boolean" ? (access ? ADMIN_TOKEN : API_KEY) : access;
  return VIEWS.filter((v) => mayView(v, capabilities, shared));
}

/** The number key that opens the view at `index` in the navigation: 1–9, then 0 for the tenth. */
export function shortcutKey(index: number): string | undefined {
  if (index < 9) return String(index + 1);
  return index === 9 ? "0" : undefined;
}

/** Views that ignore the date range, comparison and filters (they are not reports). */
export const NON_REPORT_VIEWS: ReadonlySet<ViewId> = new Set(["alerts", "operations", "settings"]);

export const RANGE_PRESETS = [
  { id: "today", label: "Today" },
  { id: "yesterday", label: "Yesterday" },
  { id: "7d", label: "Last 7 days" },
  { id: "30d", label: "Last 30 days" },
  { id: "90d", label: "Last 90 days" },
  { id: "12mo", label: "Last 12 months" },
  { id: "all", label: "All time" },
] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number]["id"];
export type Compare = "previous_period" | "year_over_year";

export interface ViewState {
  property: string;
  view: ViewId;
  /** A preset, or "custom" with `from`/`to`. */
  range: RangePreset | "custom";
  from: string;
  to: string;
  compare: Compare | null;
  filters: Filter[];
  /** The raw query string, for module-specific keys (`metric`, `interval`, `funnel`, `report`, …). */
  params: URLSearchParams;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener("tally:navigate", onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener("tally:navigate", onChange);
  };
}

/** Parses JSON from the URL without throwing: a hand-edited link must not blank the page. */
export function parseJsonParam<T>(text: string | null, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

export function readState(search: string): ViewState {
  const params = new URLSearchParams(search);
  const view = VIEWS.find((v) => v.id === params.get("view"))?.id ?? "overview";
  const rawRange = params.get("range") ?? "30d";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const range =
    rawRange === "custom" && DATE.test(from) && DATE.test(to)
      ? "custom"
      : (RANGE_PRESETS.find((p) => p.id === rawRange)?.id ?? "30d");
  const compareParam = params.get("compare");
  const compare = compareParam === "previous_period" || compareParam === "year_over_year" ? compareParam : null;
  const filters = parseJsonParam<unknown>(params.get("filters"), []);
  return {
    property: params.get("property") ?? "",
    view,
    range,
    from,
    to,
    compare,
    filters: Array.isArray(filters) ? (filters as Filter[]) : [],
    params,
  };
}

/** Applies a patch to the query string (null removes a key) and tells every subscriber. */
export function navigate(patch: Record<string, string | null>, options: { replace?: boolean } = {}): void {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === "") params.delete(key);
    else params.set(key, value);
  }
  const url = `${window.location.pathname}?${params.toString()}`;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event("tally:navigate"));
}

/** The path, re-read on every navigation (`/`, `/invite/<id>`, `/share/<id>`). */
export function usePath(): string {
  return useSyncExternalStore(subscribe, () => window.location.pathname);
}

/** Goes to another page of the SPA (a path with its query string), dropping any fragment. */
export function openPage(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event("tally:navigate"));
}

/** The href of the current state with a patch applied (for real links, which keyboards and middle-clicks understand). */
export function hrefWith(patch: Record<string, string | null>): string {
  const params = new URLSearchParams(window.location.search);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || value === "") params.delete(key);
    else params.set(key, value);
  }
  return `?${params.toString()}`;
}

/** The current URL state; re-renders on every navigation. */
export function useViewState(): [ViewState, typeof navigate] {
  const search = useSyncExternalStore(subscribe, () => window.location.search);
  // readState is cheap; memoising on `search` keeps object identity stable for effects.
  const state = useMemoBySearch(search);
  return [state, useCallback(navigate, [])];
}

let lastSearch = "\0";
let lastState: ViewState | undefined;
function useMemoBySearch(search: string): ViewState {
  if (search !== lastSearch || !lastState) {
    lastSearch = search;
    lastState = readState(search);
  }
  return lastState;
}

/** The query language's date_range for a state. */
export function dateRangeOf(state: Pick<ViewState, "range" | "from" | "to">): DateRange {
  return state.range === "custom" ? [state.from, state.to] : state.range;
}

/** Adds (or replaces) an `is` filter on a dimension. */
export function withFilter(filters: readonly Filter[], dimension: string, value: string): Filter[] {
  const rest = filters.filter((f) => !(f[0] === "is" && f[1] === dimension));
  return [...rest, ["is", dimension, [value]] as Filter];
}

/** Every dimension the filters name, however deeply nested. */
export function filteredDimensions(filters: readonly Filter[]): string[] {
  return filters.flatMap((f): string[] => {
    if (f[0] === "and" || f[0] === "or") return filteredDimensions(f[1]);
    if (f[0] === "not") return filteredDimensions([f[1]]);
    return [f[1]];
  });
}
