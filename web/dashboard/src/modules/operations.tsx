/**
 * Operations (admin only), laid out like the spec's monitoring board: the readiness strip, then a
 * tile per pipeline signal (ingestion, refusals, bots, lags, consumer, storage, queries, cache,
 * alerts), live viewers, the dead letters and the regional distribution. One metrics answer feeds
 * every tile; the page asks again every 30 seconds. A server without these routes says so.
 */
import { useEffect, useMemo, useState } from "react";
import type { Readiness } from "../../../../core/ops/readiness.ts";
import { api, notAvailable } from "../api.ts";
import { useCredentials } from "../auth.ts";
import { Card } from "../components/card.tsx";
import { DataTable } from "../components/data-table.tsx";
import { Empty, ErrorBox, Loading } from "../components/status.tsx";
import { useDash } from "../context.ts";
import { countryName, integerNumber } from "../format.ts";
import { useApi } from "../use-api.ts";
import { buildBoard, regions } from "./operations/board.ts";
import { DeadLetters } from "./operations/dead-letters.tsx";
import { gaugeTotal, type OpsMetrics } from "./operations/metrics.ts";
import { ReadinessStrip } from "./operations/readiness.tsx";
import { Tile } from "./operations/tile.tsx";
import "../styles/operations.css";

export const OPS_RANGES = [
  { minutes: 15, label: "Last 15 minutes" },
  { minutes: 60, label: "Last hour" },
  { minutes: 360, label: "Last 6 hours" },
  { minutes: 1440, label: "Last 24 hours" },
] as const;
const REFRESH_MS = 30_000;

/** Counts up every `ms` while the page is open and visible: what tells each panel to ask again. */
function useTick(ms: number): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    // A background tab does not spend ClickHouse queries on a board nobody looks at.
    const timer = setInterval(() => {
      if (!document.hidden) setTick((t) => t + 1);
    }, ms);
    return () => clearInterval(timer);
  }, [ms]);
  return tick;
}

/** An older server without the route answers 404 (or 501): shown as "not available", not as a failure. */
function orNull<T>(work: Promise<T>): Promise<T | null> {
  return work.catch((error: unknown) => {
    if (notAvailable(error)) return null;
    throw error;
  });
}

export function Operations() {
  const { state, navigate } = useDash();
  const token = useCredentials().admin ?? "";
  const who = token.slice(-6);
  const minutes = OPS_RANGES.find((r) => String(r.minutes) === state.params.get("minutes"))?.minutes ?? 60;
  const tick = useTick(REFRESH_MS);
  const metrics = useApi(`ops-metrics:${who}:${minutes}`, (signal) =>
    orNull(api<OpsMetrics>(token, `/api/v1/ops/metrics?minutes=${minutes}`, { signal })),
  );
  const ready = useApi(`readyz:${who}`, (signal) => orNull(api<Readiness>(token, "/readyz", { signal, allow: [503] })));
  const { reload: reloadMetrics } = metrics;
  const { reload: reloadReady } = ready;
  useEffect(() => {
    if (tick === 0) return;
    reloadMetrics();
    reloadReady();
  }, [tick, reloadMetrics, reloadReady]);
  const board = useMemo(() => (metrics.data ? buildBoard(metrics.data) : undefined), [metrics.data]);
  const region = useMemo(() => (metrics.data ? regions(metrics.data) : undefined), [metrics.data]);

  return (
    <div className="ops" data-testid="operations">
      <div className="ops-bar">
        <h1>Operations</h1>
        <label className="control">
          <span className="visually-hidden">Time window</span>
          <select
            data-testid="ops-range"
            value={minutes}
            onChange={(e) => navigate({ minutes: e.target.value }, { replace: true })}
          >
            {OPS_RANGES.map((r) => (
              <option key={r.minutes} value={r.minutes}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <span className="muted" data-testid="ops-updated">
          {metrics.data ? `Updated ${metrics.data.generated_at.slice(11, 19)} UTC · ` : ""}refreshes every 30 s
        </span>
        <button
          type="button"
          className="link"
          onClick={() => {
            reloadMetrics();
            reloadReady();
          }}
        >
          Refresh now
        </button>
      </div>
      <ReadinessStrip loaded={ready} />
      {metrics.error ? (
        <ErrorBox error={metrics.error} onRetry={reloadMetrics} />
      ) : metrics.data === undefined ? (
        <Loading label="Reading the pipeline's metrics…" />
      ) : metrics.data === null || !board || !region ? (
        <Empty>
          This server has no pipeline metrics (GET /api/v1/ops/metrics): ingestion, lags, errors, latency and cache
          figures would appear here.
        </Empty>
      ) : (
        <div className={`grid ops-grid${metrics.loading ? " refreshing" : ""}`} aria-busy={metrics.loading}>
          {board.map((tile) => (
            <Tile key={tile.id} tile={tile} />
          ))}
          <Card title="Live viewers" testId="ops-live">
            <div className="ops-figure">
              <span className="kpi-value" data-testid="ops-live-value">
                {integerNumber(gaugeTotal(metrics.data, "live_viewers") ?? 0)}
              </span>
              <span className="muted">dashboards connected to the real-time WebSocket now</span>
            </div>
          </Card>
          <Card title="Regional distribution" wide testId="ops-regions">
            {region.locations.length === 0 ? (
              <Empty>Events accepted by Cloudflare location and by country appear here.</Empty>
            ) : (
              <div className="ops-regions">
                <DataTable
                  keyLabel="Location (Cloudflare colo)"
                  csvKey="colo"
                  columns={[{ key: "events", label: "Events" }]}
                  rows={region.locations.slice(0, 15).map((r) => ({
                    key: r.key,
                    label: r.key || "(unknown)",
                    values: { events: r.total },
                  }))}
                  csvName="ops-locations"
                />
                <DataTable
                  keyLabel="Country"
                  csvKey="country"
                  columns={[{ key: "events", label: "Events" }]}
                  rows={region.countries.slice(0, 15).map((r) => ({
                    key: r.key,
                    label: r.key ? countryName(r.key) : "(unknown)",
                    values: { events: r.total },
                  }))}
                  csvName="ops-countries"
                />
              </div>
            )}
          </Card>
        </div>
      )}
      <div className="grid ops-grid">
        <DeadLetters token={token} tick={tick} />
      </div>
    </div>
  );
}
