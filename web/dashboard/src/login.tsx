/**
 * Sign-in: a person's account (email and password; the server answers with a session cookie), and,
 * below it, the machine way — an API key with its property, or the admin token (which lists every
 * property). Both forms stay on screen, so the second has its own button name ("Sign in") and the
 * first another ("Continue").
 */
import { type FormEvent, useState } from "react";
import { ApiError, explain } from "./api.ts";
import { REMEMBER_DAYS, signIn, signInWithAccount } from "./auth.ts";
import { ThemeToggle } from "./components/controls.tsx";
import { navigate } from "./url-state.ts";

type Problem = { form: "account" | "key"; title: string; detail: string };

export function Login({ property, note, onCancel }: { property: string; note?: string; onCancel?: () => void }) {
  const [busy, setBusy] = useState<"account" | "key">();
  const [problem, setProblem] = useState<Problem>();
  /** Runs a form's sign-in; one problem at a time, under the form that met it. */
  const attempt = async (form: Problem["form"], work: () => Promise<string>) => {
    setBusy(form);
    setProblem(undefined);
    try {
      const opened = await work();
      navigate({ property: opened || null, login: null }, { replace: true });
    } catch (err) {
      setProblem({ form, ...refusal(form, err) });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <main className="login" id="main">
      <div className="login-top">
        <ThemeToggle />
      </div>
      <div className="login-card">
        <h1>
          <span className="logo" aria-hidden="true" /> Tally
        </h1>
        {note && <p className="note">{note}</p>}
        <AccountForm
          busy={busy === "account"}
          problem={problem?.form === "account" ? problem : undefined}
          onSubmit={(email, password) =>
            attempt("account", async () => {
              const me = await signInWithAccount(email, password);
              // Stay on the property the link named when the account may see it.
              const ids = me.properties.map((p) => p.property_id);
              return ids.includes(property) ? property : (ids[0] ?? "");
            })
          }
        />
        <div className="login-or" aria-hidden="true">
          or
        </div>
        <KeyForm
          property={property}
          busy={busy === "key"}
          problem={problem?.form === "key" ? problem : undefined}
          onSubmit={(token, propertyId, remember) => attempt("key", () => signIn(token, propertyId, remember))}
          onCancel={onCancel}
        />
      </div>
    </main>
  );
}

function refusal(form: Problem["form"], err: unknown): Omit<Problem, "form"> {
  if (err instanceof ApiError && err.status === 401)
    return form === "account"
      ? { title: "This email and password do not match an account.", detail: "" }
      : { title: "This key or token was not accepted.", detail: err.message };
  if (err instanceof ApiError && err.status === 429 && form === "account") {
    const minutes = err.retryAfterSeconds ? Math.ceil(err.retryAfterSeconds / 60) : undefined;
    return {
      title: `Too many attempts: wait${minutes ? ` about ${minutes} minute${minutes === 1 ? "" : "s"}` : " a while"} before trying again.`,
      detail: "",
    };
  }
  return err instanceof ApiError ? explain(err) : { title: (err as Error).message, detail: "" };
}

function ProblemNote({ problem }: { problem: Problem | undefined }) {
  if (!problem) return null;
  return (
    <div className="state error" role="alert">
      <strong>{problem.title}</strong>
      {problem.detail && <span className="detail">{problem.detail}</span>}
    </div>
  );
}

function AccountForm({
  busy,
  problem,
  onSubmit,
}: {
  busy: boolean;
  problem: Problem | undefined;
  onSubmit: (email: string, password: string) => void;
}) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(email, password);
  };
  return (
    <form className="login-form" onSubmit={submit} aria-label="Account sign-in" data-testid="account-sign-in">
      <h2>Your account</h2>
      <label>
        Email
        <input
          name="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
          // biome-ignore lint/a11y/noAutofocus: signing in is the only thing to do on this page.
          autoFocus
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
      </label>
      <ProblemNote problem={problem} />
      <div className="login-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Checking…" : "Continue"}
        </button>
      </div>
    </form>
  );
}

function KeyForm({
  property,
  busy,
  problem,
  onSubmit,
  onCancel,
}: {
  property: string;
  busy: boolean;
  problem: Problem | undefined;
  onSubmit: (token: string, propertyId: string, remember: boolean) => void;
  onCancel?: () => void;
}) {
  const [token, setToken] = useState("");
  const [propertyId, setPropertyId] = useState(property);
  const [remember, setRemember] = useState(false);
  const isKey = token.trim().startsWith("tk_");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(token, propertyId, remember);
  };
  return (
    <form className="login-form" onSubmit={submit} aria-label="Key sign-in" aria-describedby="login-help">
      <h2>With a key</h2>
      <p id="login-help" className="muted">
        A property's API key (<code>tk_…</code>, printed when the property was created) or the admin token, which sees
        every property.
      </p>
      <label>
        API key or admin token
        <input
          name="token"
          type="password"
          autoComplete="off"
          value={token}
          onChange={(e) => setToken(e.target.value)}
          required
        />
      </label>
      <label>
        <span>Property ID {isKey ? "" : <span className="muted">(optional with the admin token)</span>}</span>
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
      <ProblemNote problem={problem} />
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
  );
}
