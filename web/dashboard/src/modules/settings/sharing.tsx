/**
 * Sharing: links that open the dashboard read-only (`…/shares`; optional password and expiry, the
 * URL answered once since it carries the token), and the property's public switch and the origins
 * allowed to embed it in an iframe (`PATCH …/:id`, read back from `GET …/access`).
 */
import { type FormEvent, useState } from "react";
import type { Share } from "../../../../../core/team/schemas.ts";
import { api } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";
import { ActionError, ShownOnce, TimeAgo, useAction, usePropertyPath } from "./shared.tsx";

export function SharedLinks() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`shares:${path()}`, (signal) => api<{ shares: Share[] }>(token, path("shares"), { signal }));
  const action = useAction();
  const [label, setLabel] = useState("");
  const [password, setPassword] = useState("");
  const [expires, setExpires] = useState("");
  const [made, setMade] = useState<string>();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    let answer: { url: string } | undefined;
    const body = {
      label: label.trim(),
      ...(password ? { password } : {}),
      // The link works through the chosen day, in this browser's zone.
      ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
    };
    const ok = await action.run(async () => {
      answer = await api<{ url: string }>(token, path("shares"), { body });
    });
    if (ok && answer) {
      setMade(answer.url);
      setLabel("");
      setPassword("");
      setExpires("");
      loaded.reload();
    }
  };
  const revoke = (s: Share) =>
    action
      .run(() => api(token, path(`shares/${encodeURIComponent(s.share_id)}`), { method: "DELETE" }))
      .then((ok) => ok && loaded.reload());

  return (
    <Card title="Shared links" testId="shared-links">
      <Async
        loaded={loaded}
        isEmpty={(d) => d.shares.every((s) => s.revoked_at)}
        empty="No shared links: anyone with one can read this property's reports."
      >
        {(data) => (
          <ul className="team-list">
            {data.shares
              .filter((s) => !s.revoked_at)
              .map((s) => (
                <li key={s.share_id} data-testid="share">
                  <span>
                    <strong>{s.label || s.share_id}</strong>
                    {s.has_password && <span className="tag">password</span>}{" "}
                    <span className="muted">
                      · by {s.created_by} <TimeAgo at={s.created_at} />
                      {s.expires_at ? (
                        <>
                          {" "}
                          · expires <TimeAgo at={s.expires_at} />
                        </>
                      ) : null}
                    </span>
                  </span>
                  <button
                    type="button"
                    className="link danger"
                    aria-label={`Revoke the shared link ${s.label || s.share_id}`}
                    onClick={() => void revoke(s)}
                  >
                    Revoke
                  </button>
                </li>
              ))}
          </ul>
        )}
      </Async>
      <form className="inline-form" onSubmit={create} aria-label="Create a shared link">
        <label>
          Label
          <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={100} placeholder="For the board" />
        </label>
        <label>
          Password (optional)
          <input
            type="password"
            autoComplete="new-password"
            minLength={8}
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Expires (optional)
          <input
            type="date"
            value={expires}
            min={new Date().toISOString().slice(0, 10)}
            onChange={(e) => setExpires(e.target.value)}
          />
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Create link
        </button>
      </form>
      <ActionError error={action.error} />
      {made && <ShownOnce testId="share-url" label="The link (shown only now):" value={made} />}
    </Card>
  );
}

interface AccessProperty {
  property: { property_id: string; public_dashboard: boolean; embed_origins: string[] };
}

export function SharingSettings() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`sharing:${path()}`, (signal) => api<AccessProperty>(token, path("access"), { signal }));
  const action = useAction();
  const [origin, setOrigin] = useState("");
  const patch = (body: Record<string, unknown>) =>
    action
      .run(() => api(token, path(), { method: "PATCH", body }))
      .then((ok) => {
        if (ok) loaded.reload();
        return ok;
      });

  return (
    <Card title="Public dashboard and embedding" testId="sharing-settings">
      <Async loaded={loaded}>
        {({ property }) => {
          const publicUrl = `${window.location.origin}/share/${encodeURIComponent(property.property_id)}`;
          const add = async (e: FormEvent) => {
            e.preventDefault();
            const next = origin.trim().replace(/\/+$/, "");
            if (!next || property.embed_origins.includes(next)) return;
            if (await patch({ embed_origins: [...property.embed_origins, next] })) setOrigin("");
          };
          return (
            <>
              <label className="check">
                <input
                  type="checkbox"
                  role="switch"
                  aria-checked={property.public_dashboard}
                  checked={property.public_dashboard}
                  disabled={action.busy}
                  onChange={(e) => void patch({ public_dashboard: e.target.checked })}
                />
                Public dashboard: anyone can read the reports, without signing in
              </label>
              {property.public_dashboard && (
                <p>
                  Public URL:{" "}
                  <a href={publicUrl} data-testid="public-url">
                    {publicUrl}
                  </a>
                </p>
              )}
              <h3>Sites allowed to embed it</h3>
              {property.embed_origins.length === 0 ? (
                <p className="muted">None: browsers refuse to show the dashboard inside another site's frame.</p>
              ) : (
                <ul className="team-list" data-testid="embed-origins">
                  {property.embed_origins.map((o) => (
                    <li key={o}>
                      <code>{o}</code>
                      <button
                        type="button"
                        className="link danger"
                        aria-label={`Stop allowing ${o}`}
                        onClick={() => void patch({ embed_origins: property.embed_origins.filter((x) => x !== o) })}
                      >
                        Remove
                      </button>
                    </li>
                  ))}
                </ul>
              )}
              <form className="inline-form" onSubmit={add} aria-label="Allow a site to embed">
                <label>
                  Origin (https)
                  <input
                    type="url"
                    value={origin}
                    onChange={(e) => setOrigin(e.target.value)}
                    placeholder="https://intranet.example.com"
                    pattern="https://.+"
                    required
                  />
                </label>
                <button type="submit">Allow</button>
              </form>
            </>
          );
        }}
      </Async>
      <ActionError error={action.error} />
    </Card>
  );
}
