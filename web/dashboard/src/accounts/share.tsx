/**
 * A shared link (`/share/<id>#<token>`) or a public dashboard (`/share/<id>`): no account. The link's
 * token comes in the fragment (never sent to a server, so never in a log), moves to sessionStorage and
 * leaves the address bar; a password share is unlocked for a `shu_` token kept the same way. Then the
 * reports run read-only with that token. A refusal later (revoked, expired, switched off) is checked
 * against `GET /api/v1/share/:id` and, if the link is gone, replaces the reports with a plain sentence.
 */
import { type FormEvent, type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { ANONYMOUS, ApiError, api, explain, onRefusal } from "../api.ts";
import { ThemeToggle } from "../components/controls.tsx";
import { ErrorBox, Loading } from "../components/status.tsx";

/** `GET /api/v1/share/:id`. */
interface ShareInfo {
  property_id: string;
  name: string;
  timezone: string;
  mode: "share" | "public";
  password_required: boolean;
}

/** What the reports need once the link is open. */
export interface OpenShare {
  token: string;
  name: string;
  mode: "share" | "public";
}

interface Stored {
  /** The link's own token (`shr_…`); none for a public dashboard. */
  link?: string;
  /** A password share's unlocked token (`shu_…`) and when it stops working (ms since the epoch). */
  unlocked?: string;
  unlocked_until?: number;
}

const storageKey = (propertyId: string) => `tally.share.${propertyId}`;

function readStored(propertyId: string): Stored {
  try {
    return JSON.parse(sessionStorage.getItem(storageKey(propertyId)) ?? "{}") as Stored;
  } catch {
    return {};
  }
}

function writeStored(propertyId: string, stored: Stored): void {
  try {
    sessionStorage.setItem(storageKey(propertyId), JSON.stringify(stored));
  } catch {
    // Without storage the link works until the page is reloaded.
  }
}

/** Takes a token from the fragment into storage and out of the address bar (and so out of copies of it). */
function adoptFragment(propertyId: string): void {
  const token = decodeURIComponent(window.location.hash.slice(1));
  if (!token) return;
  const stored = readStored(propertyId);
  if (stored.link !== token) writeStored(propertyId, { link: token });
  window.history.replaceState(null, "", `${window.location.pathname}${window.location.search}`);
}

type Phase =
  | { kind: "checking" }
  | { kind: "gone"; mode: "share" | "public" }
  | { kind: "error"; error: unknown }
  | { kind: "locked"; info: ShareInfo }
  | { kind: "open"; open: OpenShare };

const gone = (error: unknown) => error instanceof ApiError && (error.status === 401 || error.status === 404);

export function SharePage({ propertyId, children }: { propertyId: string; children: (open: OpenShare) => ReactNode }) {
  const [phase, setPhase] = useState<Phase>({ kind: "checking" });
  const checking = useRef(false);

  /** Asks whether the link still opens this dashboard; `quiet`: keep the reports on screen meanwhile. */
  const check = useCallback(
    async (quiet = false) => {
      if (checking.current) return;
      checking.current = true;
      if (!quiet) setPhase({ kind: "checking" });
      const stored = readStored(propertyId);
      const credential = stored.link ?? ANONYMOUS;
      try {
        const info = await api<ShareInfo>(credential, `/api/v1/share/${encodeURIComponent(propertyId)}`);
        const unlocked = stored.unlocked && (stored.unlocked_until ?? 0) > Date.now() ? stored.unlocked : undefined;
        if (info.password_required && !unlocked) setPhase({ kind: "locked", info });
        else if (!quiet)
          setPhase({ kind: "open", open: { token: unlocked ?? credential, name: info.name, mode: info.mode } });
      } catch (error) {
        if (gone(error)) setPhase({ kind: "gone", mode: stored.link ? "share" : "public" });
        else if (!quiet) setPhase({ kind: "error", error });
      } finally {
        checking.current = false;
      }
    },
    [propertyId],
  );

  useEffect(() => {
    const load = () => {
      adoptFragment(propertyId);
      void check();
    };
    load();
    // A second link pasted into the same tab changes only the fragment: no page load.
    window.addEventListener("hashchange", load);
    return () => window.removeEventListener("hashchange", load);
  }, [propertyId, check]);

  // A module's request refused with this link's token: the link may have been revoked.
  const openToken = phase.kind === "open" ? phase.open.token : undefined;
  useEffect(() => {
    if (openToken === undefined) return;
    return onRefusal((status, token) => {
      if (token !== openToken) return;
      const stored = readStored(propertyId);
      // An unlocked token that ran out: ask for the password again.
      if (status === 401 && stored.unlocked === token) writeStored(propertyId, { link: stored.link });
      void check(true);
    });
  }, [openToken, propertyId, check]);

  switch (phase.kind) {
    case "checking":
      return <Loading label="Opening the shared dashboard…" />;
    case "error":
      return <ErrorBox error={phase.error} onRetry={() => void check()} />;
    case "gone":
      return (
        <Notice>
          {phase.mode === "share"
            ? "This shared link is no longer valid. Ask whoever shared it for a new one."
            : "This dashboard is not public. Ask its owner for a link, or sign in."}
        </Notice>
      );
    case "locked":
      return (
        <Unlock
          info={phase.info}
          link={readStored(propertyId).link ?? ""}
          onUnlocked={(token, until) => {
            writeStored(propertyId, { link: readStored(propertyId).link, unlocked: token, unlocked_until: until });
            setPhase({ kind: "open", open: { token, name: phase.info.name, mode: phase.info.mode } });
          }}
        />
      );
    case "open":
      return children(phase.open);
  }
}

function Notice({ children }: { children: ReactNode }) {
  return (
    <main className="login" id="main">
      <div className="login-top">
        <ThemeToggle />
      </div>
      <div className="login-card" role="alert" data-testid="share-gone">
        <h1>
          <span className="logo" aria-hidden="true" /> Tally
        </h1>
        <p>{children}</p>
      </div>
    </main>
  );
}

function Unlock({
  info,
  link,
  onUnlocked,
}: {
  info: ShareInfo;
  link: string;
  onUnlocked: (token: string, until: number) => void;
}) {
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = { property_id: info.property_id, token: link, password };
      const answer = await api<{ token: string; expires_at: number | string }>(ANONYMOUS, "/api/v1/shares/unlock", {
        body,
      });
      // Milliseconds today; an ISO date would do as well.
      const until = typeof answer.expires_at === "number" ? answer.expires_at : Date.parse(answer.expires_at);
      onUnlocked(answer.token, until);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? "That password is not the link's password."
          : explain(err).title,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login" id="main">
      <div className="login-top">
        <ThemeToggle />
      </div>
      <form className="login-card" onSubmit={submit} aria-label="Unlock the shared dashboard">
        <h1>
          <span className="logo" aria-hidden="true" /> Tally
        </h1>
        <p>
          The shared view of <strong>{info.name}</strong> is protected by a password.
        </p>
        <label>
          Password
          <input
            type="password"
            autoComplete="off"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            required
            // biome-ignore lint/a11y/noAutofocus: the password is the only thing to type on this page.
            autoFocus
          />
        </label>
        {error && (
          <div className="state error" role="alert">
            <strong>{error}</strong>
          </div>
        )}
        <div className="login-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Checking…" : "Open"}
          </button>
        </div>
      </form>
    </main>
  );
}
