/**
 * An invitation (`/invite/<id>#<token>`, the token in the fragment so no server logs it): who invited
 * whom to what, then a password — a new one for a new account, the account's own otherwise. Accepting
 * signs in (the server sets the session cookie) and opens the property's dashboard.
 */
import { type FormEvent, useEffect, useState } from "react";
import type { Me, Role } from "../api.ts";
import { ANONYMOUS, ApiError, api, explain, SESSION } from "../api.ts";
import { sessionStarted } from "../auth.ts";
import { ThemeToggle } from "../components/controls.tsx";
import { Loading } from "../components/status.tsx";
import { openPage } from "../url-state.ts";

/** `GET /api/v1/invitations/:propertyId/:token`. */
interface InvitationInfo {
  property_id: string;
  property_name: string;
  email: string;
  role: Role;
  expires_at: number;
  account_exists: boolean;
}

const MIN_PASSWORD = 10;

type Phase = { kind: "loading" } | { kind: "invalid"; why: string } | { kind: "ready"; info: InvitationInfo };

export function InvitePage({ propertyId }: { propertyId: string }) {
  const [token] = useState(() => decodeURIComponent(window.location.hash.slice(1)));
  const [phase, setPhase] = useState<Phase>({ kind: "loading" });

  useEffect(() => {
    if (!token) {
      setPhase({ kind: "invalid", why: "This invitation link is incomplete: open the whole link you were sent." });
      return;
    }
    const path = `/api/v1/invitations/${encodeURIComponent(propertyId)}/${encodeURIComponent(token)}`;
    api<InvitationInfo>(ANONYMOUS, path).then(
      (info) => setPhase({ kind: "ready", info }),
      (error: unknown) =>
        setPhase({
          kind: "invalid",
          why:
            error instanceof ApiError && error.status === 404
              ? "This invitation is no longer valid: it has expired, was already used, or was withdrawn. Ask for a new one."
              : explain(error).title,
        }),
    );
  }, [propertyId, token]);

  return (
    <main className="login" id="main">
      <div className="login-top">
        <ThemeToggle />
      </div>
      {phase.kind === "loading" && <Loading label="Opening the invitation…" />}
      {phase.kind === "invalid" && (
        <div className="login-card">
          <h1>
            <span className="logo" aria-hidden="true" /> Tally
          </h1>
          <div className="state error" role="alert" data-testid="invitation-invalid">
            <strong>{phase.why}</strong>
          </div>
          <p>
            <a href="/">Go to the sign-in page</a>
          </p>
        </div>
      )}
      {phase.kind === "ready" && <AcceptForm info={phase.info} token={token} />}
    </main>
  );
}

function AcceptForm({ info, token }: { info: InvitationInfo; token: string }) {
  const fresh = !info.account_exists;
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail: string }>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body = {
        property_id: info.property_id,
        token,
        email: info.email,
        password,
        ...(fresh && name.trim() ? { name: name.trim() } : {}),
      };
      sessionStarted(await api<Me>(SESSION, "/api/v1/invitations/accept", { body }));
      // The fragment (the token) goes with this page: the dashboard's address holds only the property.
      openPage(`/?${new URLSearchParams({ property: info.property_id })}`, { replace: true });
    } catch (err) {
      setError(refusal(err, info.email));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="login-card" onSubmit={submit} aria-labelledby="invite-title">
      <h1>
        <span className="logo" aria-hidden="true" /> Tally
      </h1>
      <p id="invite-title" data-testid="invitation">
        You are invited to <strong>{info.property_name || info.property_id}</strong> as <strong>{info.role}</strong>
      </p>
      <p className="muted">
        For <strong data-testid="invitation-email">{info.email}</strong>
        {fresh ? ": choose a password to create your account." : ": you already have an account, so use its password."}
      </p>
      {fresh && (
        <label>
          <span>
            Name <span className="muted">(optional)</span>
          </span>
          <input value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" maxLength={100} />
        </label>
      )}
      <label>
        <span>
          {fresh ? "Choose a password" : "Your password"}
          {fresh && <span className="muted"> (at least {MIN_PASSWORD} characters)</span>}
        </span>
        <input
          type="password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          autoComplete={fresh ? "new-password" : "current-password"}
          minLength={fresh ? MIN_PASSWORD : undefined}
          maxLength={200}
          required
        />
      </label>
      {/* Password managers file the new password under this address. */}
      <input type="hidden" name="username" autoComplete="username" value={info.email} readOnly />
      {error && (
        <div className="state error" role="alert">
          <strong>{error.title}</strong>
          {error.detail && <span className="detail">{error.detail}</span>}
        </div>
      )}
      <div className="login-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Joining…" : fresh ? "Create account and join" : "Join"}
        </button>
      </div>
    </form>
  );
}

function refusal(err: unknown, email: string): { title: string; detail: string } {
  if (!(err instanceof ApiError)) return explain(err);
  if (err.status === 404)
    return {
      title: "This invitation is no longer valid: it has expired, was already used, or was withdrawn.",
      detail: err.message,
    };
  if (err.status === 401) return { title: `That is not the password of ${email}'s account.`, detail: "" };
  if (err.status === 403) return { title: `This invitation is for ${email} only.`, detail: err.message };
  if (err.status === 400) return { title: "The password was not accepted.", detail: err.message };
  return explain(err);
}
