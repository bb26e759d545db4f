/**
 * Members and invitations (`GET …/members`): each member's role, changed in place, and removal; an
 * invitation by email and role whose URL is answered once (it carries the token); pending
 * invitations, which can be revoked.
 */
import { type FormEvent, useState } from "react";
import { ROLES, type Role } from "../../../../../core/team/roles.ts";
import type { Invitation, Member } from "../../../../../core/team/schemas.ts";
import { api } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";
import { ActionError, ShownOnce, TimeAgo, useAction, usePropertyPath } from "./shared.tsx";

export function RoleSelect({
  value,
  onChange,
  label,
  roles = ROLES,
}: {
  value: Role;
  onChange: (role: Role) => void;
  label: string;
  roles?: readonly Role[];
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as Role)}>
      {roles.map((r) => (
        <option key={r} value={r}>
          {r}
        </option>
      ))}
    </select>
  );
}

export function Members() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`members:${path()}`, (signal) =>
    api<{ members: Member[]; invitations: Invitation[] }>(token, path("members"), { signal }),
  );
  const action = useAction();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [invited, setInvited] = useState<{ email: string; url: string }>();

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    let answer: { url: string } | undefined;
    const ok = await action.run(async () => {
      answer = await api<{ url: string }>(token, path("invitations"), { body: { email: email.trim(), role } });
    });
    if (ok && answer) {
      setInvited({ email: email.trim(), url: answer.url });
      setEmail("");
      loaded.reload();
    }
  };
  const change = (run: () => Promise<unknown>) => action.run(run).then((ok) => ok && loaded.reload());

  return (
    <Card title="Members" wide testId="members">
      <Async loaded={loaded}>
        {(data) => (
          <>
            <table className="data">
              <caption className="visually-hidden">Members of this property</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.members.map((m) => (
                  <tr key={m.email} data-testid="member">
                    <td>{m.email}</td>
                    <td>
                      <RoleSelect
                        label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(r) =>
                          change(() =>
                            api(token, path(`members/${encodeURIComponent(m.email)}`), {
                              method: "PATCH",
                              body: { role: r },
                            }),
                          )
                        }
                      />
                    </td>
                    <td>
                      <TimeAgo at={m.added_at} /> <span className="muted">by {m.added_by}</span>
                    </td>
                    <td className="num">
                      <button
                        type="button"
                        className="link danger"
                        aria-label={`Remove ${m.email}`}
                        onClick={() =>
                          change(() => api(token, path(`members/${encodeURIComponent(m.email)}`), { method: "DELETE" }))
                        }
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {data.members.length === 0 && <p className="muted">No members yet: invite someone below.</p>}
            <h3>Pending invitations</h3>
            {data.invitations.length === 0 ? (
              <p className="muted">None.</p>
            ) : (
              <ul className="team-list" data-testid="invitations">
                {data.invitations.map((i) => (
                  <li key={i.invitation_id} data-testid="invitation">
                    <span>
                      <strong>{i.email}</strong> as {i.role}{" "}
                      <span className="muted">
                        · expires <TimeAgo at={i.expires_at} />
                      </span>
                    </span>
                    <button
                      type="button"
                      className="link danger"
                      aria-label={`Revoke the invitation of ${i.email}`}
                      onClick={() =>
                        change(() =>
                          api(token, path(`invitations/${encodeURIComponent(i.invitation_id)}`), {
                            method: "DELETE",
                          }),
                        )
                      }
                    >
                      Revoke
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Async>
      <form className="inline-form" onSubmit={invite} aria-label="Invite someone">
        <label>
          Email
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} required />
        </label>
        <RoleSelect label="Role of the invited person" value={role} onChange={setRole} />
        <button type="submit" className="primary" disabled={action.busy}>
          Invite
        </button>
      </form>
      <ActionError error={action.error} />
      {invited && (
        <ShownOnce
          testId="invitation-url"
          label={`Send this link to ${invited.email} (shown only now):`}
          value={invited.url}
        />
      )}
    </Card>
  );
}
