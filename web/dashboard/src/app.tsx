/**
 * The shell: sign-in when there is no credential for the property, else the header (property,
 * range, comparison, theme), the module navigation (links, and keys 1–9 and 0), the filter bar and the
 * module itself. Operations shows only with the admin token.
 */
import { type ComponentType, lazy, Suspense, useEffect, useMemo } from "react";
import { api, type PropertySummary } from "./api.ts";
import { signOut, tokenFor, useCredentials } from "./auth.ts";
import { CompareToggle, DateRangePicker, FilterBar, PropertySwitcher, ThemeToggle } from "./components/controls.tsx";
import { Empty, ErrorBox, Loading } from "./components/status.tsx";
import { type Dash, DashContext } from "./context.ts";
import { Login } from "./login.tsx";
import { Overview } from "./modules/overview.tsx";
import {
  hrefWith,
  NON_REPORT_VIEWS,
  navigate,
  shortcutKey,
  useViewState,
  type View,
  type ViewId,
  viewsFor,
} from "./url-state.ts";
import { useApi } from "./use-api.ts";

// Modules other than the landing one load on first visit; they are small, so this mainly keeps the first paint quick.
const MODULES: Record<ViewId, ComponentType> = {
  overview: Overview,
  realtime: lazy(() => import("./modules/realtime.tsx").then((m) => ({ default: m.Realtime }))),
  audience: lazy(() => import("./modules/audience.tsx").then((m) => ({ default: m.Audience }))),
  acquisition: lazy(() => import("./modules/acquisition.tsx").then((m) => ({ default: m.Acquisition }))),
  behavior: lazy(() => import("./modules/behavior.tsx").then((m) => ({ default: m.Behavior }))),
  conversions: lazy(() => import("./modules/conversions.tsx").then((m) => ({ default: m.Conversions }))),
  custom: lazy(() => import("./modules/custom-reports.tsx").then((m) => ({ default: m.CustomReports }))),
  bots: lazy(() => import("./modules/bots.tsx").then((m) => ({ default: m.Bots }))),
  alerts: lazy(() => import("./modules/alerts.tsx").then((m) => ({ default: m.Alerts }))),
  operations: lazy(() => import("./modules/operations.tsx").then((m) => ({ default: m.Operations }))),
};

function useShortcuts(views: readonly View[]): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest("input, select, textarea, [contenteditable=true]")) return;
      const view = views.find((_, i) => shortcutKey(i) === e.key);
      if (view) navigate({ view: view.id });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [views]);
}

/** Operations without the admin token: said plainly (a shared link may lead here). */
function AdminOnly() {
  return (
    <Empty>
      <span data-testid="admin-only">The Operations page shows the whole pipeline, so it needs the admin token.</span>{" "}
      <button type="button" className="link" onClick={() => navigate({ login: "1" })}>
        Sign in with the admin token
      </button>
    </Empty>
  );
}

export function App() {
  const credentials = useCredentials();
  const [state] = useViewState();
  const admin = credentials.admin;
  const views = useMemo(() => viewsFor(Boolean(admin)), [admin]);
  useShortcuts(views);
  const list = useApi(admin ? `properties:${admin.slice(-6)}` : null, (signal) =>
    api<{ properties: PropertySummary[] }>(admin ?? "", "/api/v1/properties", { signal }),
  );
  const keyed = Object.keys(credentials.keys);
  const fallback = keyed[0] ?? list.data?.properties[0]?.property_id ?? "";
  const property = state.property || fallback;

  useEffect(() => {
    if (!state.property && fallback) navigate({ property: fallback }, { replace: true });
  }, [state.property, fallback]);

  const signedIn = Boolean(admin) || keyed.length > 0;
  const adding = state.params.get("login") === "1";
  const token = property ? tokenFor(credentials, property) : undefined;
  if (!signedIn || adding || (property && !token))
    return (
      <Login
        property={adding ? "" : property}
        note={signedIn && !adding && property ? `You have no key for ${property} yet: sign in with one.` : undefined}
        onCancel={signedIn ? () => navigate({ login: null, property: adding ? property : fallback }) : undefined}
      />
    );
  if (!property || !token) {
    if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
    // A new deployment has no property yet, but its operator still watches the pipeline.
    if (list.data && admin && state.view === "operations") {
      const Operations = MODULES.operations;
      return (
        <DashContext.Provider value={{ state, navigate, property: "", token: admin }}>
          <main id="main">
            <Suspense fallback={<Loading />}>
              <Operations />
            </Suspense>
          </main>
        </DashContext.Provider>
      );
    }
    if (list.data)
      return (
        <Empty>
          There are no properties yet. Create one with <code>POST /api/v1/properties</code> (see the README), then
          reload.
          {admin && (
            <>
              {" "}
              <button type="button" className="link" onClick={() => navigate({ view: "operations" })}>
                Open the Operations page
              </button>
            </>
          )}
        </Empty>
      );
    return <Loading label="Finding your properties…" />;
  }

  const dash: Dash = { state, navigate, property, token };
  const Module = state.view === "operations" && !admin ? AdminOnly : MODULES[state.view];
  const report = !NON_REPORT_VIEWS.has(state.view);
  const properties = [
    ...keyed.map((id) => ({ id, name: "" })),
    ...(list.data?.properties ?? [])
      .filter((p) => !keyed.includes(p.property_id))
      .map((p) => ({ id: p.property_id, name: p.name })),
  ];
  return (
    <DashContext.Provider value={dash}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true" />
          Tally
        </div>
        <PropertySwitcher current={property} properties={properties} onAdd={() => navigate({ login: "1" })} />
        {report && <DateRangePicker key={`${state.range}:${state.from}:${state.to}`} state={state} />}
        {report && <CompareToggle compare={state.compare} />}
        <div className="spacer" />
        <ThemeToggle />
        <button
          type="button"
          className="link"
          onClick={() => {
            signOut();
            navigate({ login: null });
          }}
        >
          Sign out
        </button>
      </header>
      <nav className="modules" aria-label="Reports">
        <ul>
          {views.map((v, i) => (
            <li key={v.id}>
              <a
                href={hrefWith({ view: v.id })}
                aria-current={v.id === state.view ? "page" : undefined}
                aria-keyshortcuts={shortcutKey(i)}
                title={shortcutKey(i) ? `${v.label} (key ${shortcutKey(i)})` : v.label}
                onClick={(e) => {
                  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                  e.preventDefault();
                  navigate({ view: v.id });
                  document.getElementById("main")?.focus();
                }}
              >
                {v.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1} data-view={state.view}>
        {report && <FilterBar filters={state.filters} />}
        <Suspense fallback={<Loading />}>
          <Module key={property} />
        </Suspense>
      </main>
    </DashContext.Provider>
  );
}
