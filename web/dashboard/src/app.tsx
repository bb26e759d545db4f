/**
 * The pages: an invitation (`/invite/<id>`), a shared link or public dashboard (`/share/<id>`, read
 * only), and the dashboard. The dashboard signs in (an account, a key or the admin token) when there
 * is no credential for the property, then asks what the caller may do there and shows the header,
 * the views the capabilities allow (links, and keys 1–9 and 0), the filter bar and the module.
 */
import { type ComponentType, lazy, type ReactNode, Suspense, useEffect, useMemo } from "react";
import { ADMIN_GRANT, useAccess, useCapabilitySet } from "./accounts/access.ts";
import { AccountMenu, SharedBadge } from "./accounts/account-menu.tsx";
import type { OpenShare } from "./accounts/share.tsx";
import { api, type Capability, type PropertySummary } from "./api.ts";
import { tokenFor, useCredentials, useMe } from "./auth.ts";
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
  usePath,
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
  settings: lazy(() => import("./modules/settings.tsx").then((m) => ({ default: m.Settings }))),
};
const InvitePage = lazy(() => import("./accounts/invite.tsx").then((m) => ({ default: m.InvitePage })));
const SharePage = lazy(() => import("./accounts/share.tsx").then((m) => ({ default: m.SharePage })));

const READ_ONLY: ReadonlySet<Capability> = new Set(["view"]);

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

/** A view the caller's role does not include (a link from someone with more access). */
function NotAllowed() {
  return (
    <Empty>
      <span data-testid="not-allowed">Your access to this property does not include this page.</span>{" "}
      <button type="button" className="link" onClick={() => navigate({ view: "overview" })}>
        Open the overview
      </button>
    </Empty>
  );
}

/** The dashboard around one property's module; `shared`: the shared view's name (no switcher, no sign-out). */
function Shell({
  dash,
  shared,
  properties = [],
  account,
}: {
  dash: Dash;
  shared?: string;
  properties?: { id: string; name: string }[];
  account?: ReactNode;
}) {
  const { state, property, capabilities } = dash;
  const views = useMemo(() => viewsFor(capabilities, shared !== undefined), [capabilities, shared]);
  useShortcuts(views);
  const allowed = views.some((v) => v.id === state.view);
  const Module = allowed
    ? MODULES[state.view]
    : state.view === "operations" && shared === undefined
      ? AdminOnly
      : NotAllowed;
  const report = allowed && !NON_REPORT_VIEWS.has(state.view);
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
        {shared === undefined ? (
          <PropertySwitcher current={property} properties={properties} onAdd={() => navigate({ login: "1" })} />
        ) : (
          <SharedBadge name={shared} />
        )}
        {report && <DateRangePicker key={`${state.range}:${state.from}:${state.to}`} state={state} />}
        {report && <CompareToggle compare={state.compare} />}
        <div className="spacer" />
        <ThemeToggle />
        {account}
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

/** One property, once its credential is known: asks what the caller may do, then the shell. */
function PropertyDashboard({
  property,
  token,
  properties,
}: {
  property: string;
  token: string;
  properties: { id: string; name: string }[];
}) {
  const [state] = useViewState();
  const credentials = useCredentials();
  const me = useMe();
  const who = token ? token.slice(-8) : (me?.email ?? "");
  const access = useAccess(property, token, who, token === credentials.admin);
  const capabilities = useCapabilitySet(access.data);
  if (access.error)
    return (
      <main className="login" id="main">
        <ErrorBox error={access.error} onRetry={access.reload} />
        <AccountMenu me={me} memberRole={null} />
      </main>
    );
  if (!access.data) return <Loading label="Checking your access…" />;
  const { principal, role } = access.data;
  const dash: Dash = { state, navigate, property, token, capabilities, principal, role };
  return <Shell dash={dash} properties={properties} account={<AccountMenu me={me} memberRole={role} />} />;
}

/** The admin's pipeline page on a deployment with no property yet. */
function OperationsOnly({ token }: { token: string }) {
  const [state] = useViewState();
  const Operations = MODULES.operations;
  const capabilities = useCapabilitySet(ADMIN_GRANT);
  const dash: Dash = { state, navigate, property: "", token, capabilities, principal: "admin", role: null };
  return (
    <DashContext.Provider value={dash}>
      <main id="main">
        <Suspense fallback={<Loading />}>
          <Operations />
        </Suspense>
      </main>
    </DashContext.Provider>
  );
}

function Dashboard() {
  const credentials = useCredentials();
  const me = useMe();
  const [state] = useViewState();
  const admin = credentials.admin;
  const list = useApi(admin ? `properties:${admin.slice(-6)}` : null, (signal) =>
    api<{ properties: PropertySummary[] }>(admin ?? "", "/api/v1/properties", { signal }),
  );
  const keyed = Object.keys(credentials.keys);
  const member = me?.properties.map((p) => p.property_id) ?? [];
  const fallback = keyed[0] ?? member[0] ?? list.data?.properties[0]?.property_id ?? "";
  const property = state.property || fallback;

  useEffect(() => {
    if (!state.property && fallback) navigate({ property: fallback }, { replace: true });
  }, [state.property, fallback]);

  // The session check is one request; the sign-in page waits for it rather than flashing.
  if (me === undefined) return <Loading label="Checking your sign-in…" />;
  const signedIn = Boolean(admin) || keyed.length > 0 || me !== null;
  const adding = state.params.get("login") === "1";
  const token = property ? tokenFor(credentials, property, me) : undefined;
  if (!signedIn || adding || (property && token === undefined))
    return (
      <Login
        property={adding ? "" : property}
        note={
          signedIn && !adding && property
            ? `You have no access to ${property} yet: sign in with its key, or ask one of its admins to invite you.`
            : undefined
        }
        onCancel={signedIn ? () => navigate({ login: null, property: adding ? property : fallback }) : undefined}
      />
    );
  if (!property || token === undefined) {
    if (list.error) return <ErrorBox error={list.error} onRetry={list.reload} />;
    // A new deployment has no property yet, but its operator still watches the pipeline.
    if (list.data && admin && state.view === "operations") return <OperationsOnly token={admin} />;
    if (list.data || !admin)
      return (
        <Empty>
          {admin ? (
            <>
              There are no properties yet. Create one with <code>POST /api/v1/properties</code> (see the README), then
              reload.{" "}
              <button type="button" className="link" onClick={() => navigate({ view: "operations" })}>
                Open the Operations page
              </button>
            </>
          ) : (
            "Your account has no property yet: ask a property's admin to invite you."
          )}{" "}
          <AccountMenu me={me} memberRole={null} />
        </Empty>
      );
    return <Loading label="Finding your properties…" />;
  }
  const names = new Map((list.data?.properties ?? []).map((p) => [p.property_id, p.name]));
  const ids = [...new Set([...keyed, ...member, ...names.keys()])];
  return (
    <PropertyDashboard
      key={property}
      property={property}
      token={token}
      properties={ids.map((id) => ({ id, name: names.get(id) ?? "" }))}
    />
  );
}

function SharedDashboard({ property, open }: { property: string; open: OpenShare }) {
  const [state] = useViewState();
  const dash: Dash = {
    state,
    navigate,
    property,
    token: open.token,
    capabilities: READ_ONLY,
    principal: open.mode,
    role: null,
  };
  return <Shell dash={dash} shared={open.name || property} />;
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function App() {
  const path = usePath();
  const page = /^\/(invite|share)\/([^/]+)\/?$/.exec(path);
  if (!page?.[2]) return <Dashboard />;
  const property = decoded(page[2]);
  return (
    <Suspense fallback={<Loading />}>
      {page[1] === "invite" ? (
        <InvitePage propertyId={property} />
      ) : (
        <SharePage propertyId={property}>{(open) => <SharedDashboard property={property} open={open} />}</SharePage>
      )}
    </Suspense>
  );
}
