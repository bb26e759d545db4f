/**
 * Alerts (per property): the open alerts first, then the history (kind, message, when, how long,
 * resolved), and the rules form with the webhook. The anomaly detection runs on the property's
 * actor every minute; this page only reads and configures it.
 */
import { type ReactNode, useState } from "react";
import { api, notAvailable } from "../api.ts";
import { Card } from "../components/card.tsx";
import { Empty, ErrorBox, Loading } from "../components/status.tsx";
import { useDash } from "../context.ts";
import { forgetAnswers, type Loaded, useApi } from "../use-api.ts";
import {
  type AlertRules,
  alertDuration,
  kindLabel,
  orderAlerts,
  type RulesAnswer,
  type ShownAlert,
} from "./alerts/model.ts";
import { RulesForm } from "./alerts/rules-form.tsx";
import "../styles/operations.css";

const when = (iso: string) => `${iso.slice(0, 16).replace("T", " ")} UTC`;

function AlertTable({ alerts, testId }: { alerts: ShownAlert[]; testId: string }) {
  const now = Date.now();
  return (
    <div className="table-wrap">
      <table className="data" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">What happened</th>
            <th scope="col">Opened</th>
            <th scope="col">Duration</th>
            <th scope="col">Resolved</th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.alert_id} data-id={a.alert_id}>
              <td>
                <span className={`alert-status ${a.status}`}>{kindLabel(a.kind)}</span>
                {a.subject && <span className="muted"> {a.subject}</span>}
              </td>
              <td>{a.message}</td>
              <td>{when(a.opened_at)}</td>
              <td>{alertDuration(a, now)}</td>
              <td>{a.resolved_at ? when(a.resolved_at) : "still open"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Loading, failure and "this server has no alerts API" for a panel; else its content. */
function Panel<T>({ loaded, children }: { loaded: Loaded<T | null>; children: (data: T) => ReactNode }) {
  if (loaded.error) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (loaded.data === undefined) return <Loading />;
  if (loaded.data === null)
    return <Empty>This server has no traffic alerts API: alerts and their rules would appear here.</Empty>;
  return <>{children(loaded.data)}</>;
}

export function Alerts() {
  const { property, token } = useDash();
  const base = `/api/v1/properties/${encodeURIComponent(property)}`;
  const orNull = <T,>(work: Promise<T>) =>
    work.catch((error: unknown) => {
      if (notAvailable(error)) return null;
      throw error;
    });
  const alerts = useApi(`alerts:${property}`, (signal) =>
    orNull(api<{ alerts: ShownAlert[] }>(token, `${base}/alerts?status=all&limit=50`, { signal })),
  );
  const rules = useApi(`alert-rules:${property}`, (signal) =>
    orNull(api<RulesAnswer>(token, `${base}/alert-rules`, { signal })),
  );
  // The form's saved rules (the remembered GET answer would be stale after a save).
  const [savedRules, setSavedRules] = useState<AlertRules>();
  const ordered = alerts.data ? orderAlerts(alerts.data.alerts) : undefined;

  return (
    <div className="grid">
      <Card
        title="Open alerts"
        wide
        testId="open-alerts"
        actions={
          <button type="button" className="link" onClick={alerts.reload}>
            Refresh
          </button>
        }
      >
        <Panel loaded={alerts}>
          {() =>
            ordered && ordered.open.length > 0 ? (
              <AlertTable alerts={ordered.open} testId="open-alert-list" />
            ) : (
              <Empty>
                No open alerts. When pageviews or visitors spike or drop, tracking stops, the bot or refused share jumps
                or a main source vanishes, the alert appears here until traffic is back to normal.
              </Empty>
            )
          }
        </Panel>
      </Card>
      <Card title="History" wide testId="alert-history">
        <Panel loaded={alerts}>
          {() =>
            ordered && ordered.history.length > 0 ? (
              <AlertTable alerts={ordered.history} testId="alert-history-list" />
            ) : (
              <Empty>No resolved alerts yet: each alert stays listed here once traffic returned to normal.</Empty>
            )
          }
        </Panel>
      </Card>
      <Card title="Rules and webhook" wide testId="alert-rules-card">
        <Panel loaded={rules}>
          {(data) => (
            <RulesForm
              key={property}
              initial={savedRules ?? data.rules}
              onSaved={(saved) => {
                setSavedRules(saved);
                forgetAnswers(`alert-rules:${property}`);
              }}
            />
          )}
        </Panel>
      </Card>
    </div>
  );
}
