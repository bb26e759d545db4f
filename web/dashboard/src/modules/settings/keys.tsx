/**
 * API keys (`GET/POST/DELETE …/keys`): each with its label and role; a new key is answered once and
 * shown once. Revoked keys stay listed, marked, so the audit of who had access is readable here too.
 */
import { type FormEvent, useState } from "react";
import type { Role } from "../../../../../core/team/roles.ts";
import { api } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";
import { RoleSelect } from "./members.tsx";
import { ActionError, ShownOnce, TimeAgo, useAction, usePropertyPath } from "./shared.tsx";

interface ApiKey {
  key_id: string;
  label: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
}

/** A key never carries `owner`: the server refuses one, so the form does not offer it. */
const KEY_ROLES: readonly Role[] = ["viewer", "editor", "admin"];

export function ApiKeys() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`keys:${path()}`, (signal) => api<{ keys: ApiKey[] }>(token, path("keys"), { signal }));
  const action = useAction();
  const [label, setLabel] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [issued, setIssued] = useState<{ label: string; key: string }>();

  const issue = async (e: FormEvent) => {
    e.preventDefault();
    let answer: { api_key: string } | undefined;
    const ok = await action.run(async () => {
      answer = await api<{ api_key: string }>(token, path("keys"), { body: { label: label.trim(), role } });
    });
    if (ok && answer) {
      setIssued({ label: label.trim(), key: answer.api_key });
      setLabel("");
      loaded.reload();
    }
  };
  const revoke = (k: ApiKey) =>
    action
      .run(() => api(token, path(`keys/${encodeURIComponent(k.key_id)}`), { method: "DELETE" }))
      .then((ok) => ok && loaded.reload());

  return (
    <Card title="API keys" wide testId="api-keys">
      <Async loaded={loaded} isEmpty={(d) => d.keys.length === 0} empty="No API keys yet.">
        {(data) => (
          <ul className="team-list">
            {data.keys.map((k) => (
              <li key={k.key_id} data-testid="api-key" className={k.revoked_at ? "revoked" : undefined}>
                <span>
                  <strong>{k.label || k.key_id}</strong> <span className="muted">({k.key_id})</span> ·{" "}
                  {k.role ?? "admin"}{" "}
                  <span className="muted">
                    · made <TimeAgo at={k.created_at} />
                    {k.revoked_at && (
                      <>
                        {" "}
                        · revoked <TimeAgo at={k.revoked_at} />
                      </>
                    )}
                  </span>
                </span>
                {!k.revoked_at && (
                  <button
                    type="button"
                    className="link danger"
                    aria-label={`Revoke the key ${k.label || k.key_id}`}
                    onClick={() => void revoke(k)}
                  >
                    Revoke
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Async>
      <form className="inline-form" onSubmit={issue} aria-label="Issue an API key">
        <label>
          Label
          <input value={label} onChange={(e) => setLabel(e.target.value)} placeholder="CI export" maxLength={100} />
        </label>
        <RoleSelect label="Role of the new key" value={role} onChange={setRole} roles={KEY_ROLES} />
        <button type="submit" className="primary" disabled={action.busy}>
          Issue key
        </button>
      </form>
      <ActionError error={action.error} />
      {issued && (
        <ShownOnce
          testId="new-api-key"
          label={`The key ${issued.label ? `“${issued.label}” ` : ""}(shown only now; keep it secret):`}
          value={issued.key}
        />
      )}
    </Card>
  );
}
