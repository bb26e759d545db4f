/**
 * Scheduled reports (`…/digests`): a weekly or monthly summary to an email address or a Slack
 * webhook; "Send now" sends the last full period at once, to check the address.
 */
import { type FormEvent, useState } from "react";
import type { Digest } from "../../../../../core/team/schemas.ts";
import { api } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";
import { ActionError, useAction, usePropertyPath } from "./shared.tsx";

type Channel = Digest["channel"];
type Frequency = Digest["frequency"];

export function Digests() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`digests:${path()}`, (signal) =>
    api<{ digests: Digest[] }>(token, path("digests"), { signal }),
  );
  const action = useAction();
  const [channel, setChannel] = useState<Channel>("email");
  const [target, setTarget] = useState("");
  const [frequency, setFrequency] = useState<Frequency>("weekly");
  const [sent, setSent] = useState<string>();

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const ok = await action.run(() =>
      api(token, path("digests"), { body: { channel, target: target.trim(), frequency } }),
    );
    if (ok) {
      setTarget("");
      loaded.reload();
    }
  };
  const remove = (d: Digest) =>
    action
      .run(() => api(token, path(`digests/${encodeURIComponent(d.id)}`), { method: "DELETE" }))
      .then((ok) => ok && loaded.reload());
  const sendNow = async (d: Digest) => {
    setSent(undefined);
    if (await action.run(() => api(token, path(`digests/${encodeURIComponent(d.id)}/send`), { method: "POST" }))) {
      setSent(`Sent to ${d.target}.`);
      loaded.reload();
    }
  };

  return (
    <Card title="Scheduled reports" testId="digests">
      <Async loaded={loaded} isEmpty={(d) => d.digests.length === 0} empty="No scheduled reports yet.">
        {(data) => (
          <ul className="team-list">
            {data.digests.map((d) => (
              <li key={d.id} data-testid="digest">
                <span>
                  {d.frequency === "weekly" ? "Weekly" : "Monthly"} to{" "}
                  <strong>{d.channel === "slack" ? "Slack" : d.target}</strong>
                  {d.channel === "slack" && <span className="muted"> ({new URL(d.target).host})</span>}
                  <span className="muted">{d.last_period ? ` · last sent ${d.last_period}` : " · not sent yet"}</span>
                  {d.last_error && <span className="field-error"> · failed: {d.last_error}</span>}
                </span>
                <span>
                  <button type="button" className="link" onClick={() => void sendNow(d)} disabled={action.busy}>
                    Send now
                  </button>{" "}
                  <button
                    type="button"
                    className="link danger"
                    aria-label={`Delete the ${d.frequency} report to ${d.target}`}
                    onClick={() => void remove(d)}
                  >
                    Delete
                  </button>
                </span>
              </li>
            ))}
          </ul>
        )}
      </Async>
      <form className="inline-form" onSubmit={add} aria-label="Schedule a report">
        <label>
          Send to
          <select value={channel} onChange={(e) => setChannel(e.target.value === "slack" ? "slack" : "email")}>
            <option value="email">Email</option>
            <option value="slack">Slack webhook</option>
          </select>
        </label>
        <label>
          {channel === "email" ? "Email address" : "Webhook URL"}
          <input
            type={channel === "email" ? "email" : "url"}
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            placeholder={channel === "email" ? "team@example.com" : "https://hooks.slack.com/services/…"}
            required
          />
        </label>
        <label>
          Every
          <select value={frequency} onChange={(e) => setFrequency(e.target.value === "monthly" ? "monthly" : "weekly")}>
            <option value="weekly">week</option>
            <option value="monthly">month</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={action.busy}>
          Schedule
        </button>
      </form>
      <ActionError error={action.error} />
      {sent && (
        <p className="muted" role="status">
          {sent}
        </p>
      )}
    </Card>
  );
}
