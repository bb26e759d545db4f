/**
 * The readiness strip: each dependency `GET /readyz` probes, with its status and latency. Asked with
 * the admin token, so the answer names what failed; a 503 is an answer here, not an error.
 */
import type { Check, Readiness } from "../../../../../core/ops/readiness.ts";
import { Empty, ErrorBox, Loading } from "../../components/status.tsx";
import type { Loaded } from "../../use-api.ts";
import { formatMs } from "./metrics.ts";

const NAMES: Record<string, string> = {
  clickhouse: "ClickHouse",
  warehouse: "Warehouse",
  archive: "Archive (R2)",
  queues: "Queues",
  cache: "Cache",
};

const STATUS_WORDS: Record<Check["status"], string> = { ok: "ok", down: "down", not_configured: "not configured" };

export function ReadinessStrip({ loaded }: { loaded: Loaded<Readiness | null> }) {
  if (loaded.error) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (loaded.data === undefined) return <Loading label="Checking the dependencies…" />;
  if (loaded.data === null)
    return <Empty>This server has no readiness probe (GET /readyz): each dependency's status would appear here.</Empty>;
  const { status, checks } = loaded.data;
  return (
    <section className="ops-ready" aria-label="Readiness" data-testid="readiness" data-status={status}>
      <div className={`ops-overall ${status === "ready" ? "ok" : "down"}`} data-testid="readiness-status">
        {status === "ready" ? "Ready" : "Not ready"}
      </div>
      <ul>
        {Object.entries(checks).map(([name, check]) => (
          <li
            key={name}
            className={`ops-check ${check.status}`}
            data-testid={`ready-${name}`}
            data-status={check.status}
            title={check.error}
          >
            <span className="ops-check-name">
              {NAMES[name] ?? name}
              {check.required ? "" : <span className="muted"> (optional)</span>}
            </span>
            <span className="ops-check-status">{STATUS_WORDS[check.status] ?? check.status}</span>
            <span className="muted">{check.latency_ms === null ? "" : formatMs(check.latency_ms)}</span>
            {check.error && <span className="ops-check-error">{check.error}</span>}
            {check.detail && (
              <span className="muted ops-check-detail">
                {Object.entries(check.detail)
                  .map(([k, v]) => `${k.replaceAll("_", " ")}: ${v ?? "–"}`)
                  .join(" · ")}
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
