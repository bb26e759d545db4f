/** Sign-in: an API key with its property, or the admin token (which lists every property). */
import { type FormEvent, useState } from "react";
import { ApiError, explain } from "./api.ts";
import { REMEMBER_DAYS, signIn } from "./auth.ts";
import { ThemeToggle } from "./components/controls.tsx";
import { navigate } from "./url-state.ts";

export function Login({ property, note, onCancel }: { property: string; note?: string; onCancel?: () => void }) {
  const [token, setToken] = useState("");
  const [propertyId, setPropertyId] = useState(property);
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ title: string; detail: string }>();
  const isKey = token.trim().startsWith("tk_");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const opened = await signIn(token, propertyId, remember);
      navigate({ property: opened || null, login: null }, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401)
        setError({ title: "This key or token was not accepted.", detail: err.message });
      else setError(err instanceof ApiError ? explain(err) : { title: (err as Error).message, detail: "" });
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login" id="main">
      <div className="login-top">
        <ThemeToggle />
      </div>
      <form className="login-card" onSubmit={submit} aria-describedby="login-help">
        <h1>
          <span className="logo" aria-hidden="true" /> Tally
        </h1>
        {note && <p className="note">{note}</p>}
        <p id="login-help" className="muted">
          Sign in with a property's API key (<code>tk_…</code>, printed when the property was created) or with the admin
          token to see every property.
        </p>
        <label>
          API key or admin token
          <input
            name="token"
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            required
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this page is type the key.
            autoFocus
          />
        </label>
        <label>
          Property ID {isKey ? "" : <span className="muted">(optional with the admin token)</span>}
          <input
            name="property"
            value={propertyId}
            onChange={(e) => setPropertyId(e.target.value)}
            placeholder="UA-DEMO-1"
            required={isKey}
          />
        </label>
        <label className="check">
          <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
          Keep me signed in on this device for {REMEMBER_DAYS} days
        </label>
        {error && (
          <div className="state error" role="alert">
            <strong>{error.title}</strong>
            {error.detail && <span className="detail">{error.detail}</span>}
          </div>
        )}
        <div className="login-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Checking…" : "Sign in"}
          </button>
          {onCancel && (
            <button type="button" className="link" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
      </form>
    </main>
  );
}
