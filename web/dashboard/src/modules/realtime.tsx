/**
 * Real-time: the PropertyDO's live snapshot (../use-live-snapshot.ts: pushed over its WebSocket, else
 * polled) as counters, a per-minute chart and top lists. The recent-events stream reads ClickHouse
 * through the query API, refreshed when a push says something changed.
 */
import { useEffect, useMemo, useRef, useState } from "react";
import { Card } from "../components/card.tsx";
import { DataTable, type TableRow } from "../components/data-table.tsx";
import { Async, Empty, ErrorBox, Loading } from "../components/status.tsx";
import { TimeChart } from "../components/time-chart.tsx";
import { useDash, useQuery } from "../context.ts";
import { displayValue, formatMetric } from "../format.ts";
import { type LiveStatus, useLiveSnapshot } from "../use-live-snapshot.ts";

const STATUS_WORDS: Record<LiveStatus, string> = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Live updates interrupted: refreshing every 5 s",
};

/** Recent events by minute from ClickHouse, refreshed at most every 15 s while pushes arrive. */
function RecentEvents({ version }: { version: string }) {
  const [anchor, setAnchor] = useState(() => Date.now());
  const last = useRef(0);
  useEffect(() => {
    if (!version || Date.now() - last.current < 15_000) return;
    last.current = Date.now();
    setAnchor(Date.now());
  }, [version]);
  const loaded = useQuery({
    metrics: ["events"],
    dimensions: ["time:minute", "event:name", "event:page"],
    date_range: [new Date(anchor - 30 * 60_000).toISOString(), new Date(anchor + 60_000).toISOString()],
    order_by: [
      ["time:minute", "desc"],
      ["events", "desc"],
    ],
    limit: 25,
    comparable: false,
    filtered: false,
  });
  return (
    <Async loaded={loaded} isEmpty={(d) => d.results.length === 0} empty="No events in the last 30 minutes.">
      {(data) => (
        <ol className="stream" data-testid="event-stream">
          {data.results.map((r) => {
            const [minute = "", name = "", page = ""] = r.dimensions;
            return (
              <li key={r.dimensions.join("|")}>
                <time>{minute.slice(11, 16)}</time>
                <span className={`event-name ${name === "pageview" ? "pv" : "custom"}`}>{name}</span>
                <span className="page">{page}</span>
                <span className="count">×{r.metrics[0]}</span>
              </li>
            );
          })}
        </ol>
      )}
    </Async>
  );
}

function SnapshotTable({
  rows,
  keyName,
  label,
  metric,
  dimension,
}: {
  rows: Record<string, string | number>[];
  keyName: string;
  label: string;
  metric: string;
  dimension: string;
}) {
  if (rows.length === 0) return <Empty>Nothing in the last 30 minutes.</Empty>;
  const tableRows: TableRow[] = rows.map((r) => ({
    key: String(r[keyName] ?? ""),
    label: displayValue(dimension, String(r[keyName] ?? "")),
    values: { [metric]: Number(r[metric] ?? 0) },
  }));
  return (
    <DataTable
      keyLabel={label}
      columns={[{ key: metric, label: metric === "pageviews" ? "Pageviews" : "Visitors" }]}
      rows={tableRows}
      csvName={`realtime-${keyName}`}
    />
  );
}

export function Realtime() {
  const { property, token } = useDash();
  const { snapshot, status, error } = useLiveSnapshot(property, token);
  const chart = useMemo(
    () =>
      snapshot && {
        x: snapshot.pageviews_per_minute.map((p) => Date.parse(p.minute) / 1000),
        series: [{ label: "Pageviews", values: snapshot.pageviews_per_minute.map((p) => p.pageviews) }],
      },
    [snapshot],
  );
  if (!snapshot) return error ? <ErrorBox error={error} /> : <Loading label="Connecting to the live feed…" />;
  return (
    <div className="grid">
      <Card
        title="Right now"
        wide
        testId="live"
        actions={
          <span className={`live-status ${status}`} data-testid="live-status">
            {STATUS_WORDS[status]}
          </span>
        }
      >
        <div className="live-figures">
          <div className="live-counter">
            <span className="big" data-testid="live-visitors" aria-live="polite">
              {formatMetric("visitors", snapshot.active_visitors)}
            </span>
            <span>visitors in the last 5 minutes</span>
          </div>
          <dl>
            <div>
              <dt>Pageviews, last 30 min</dt>
              <dd data-testid="live-pageviews">{formatMetric("pageviews", snapshot.pageviews_last_30m)}</dd>
            </div>
            <div>
              <dt>Visitors, last 30 min</dt>
              <dd>{formatMetric("visitors", snapshot.visitors_last_30m)}</dd>
            </div>
            <div>
              <dt>Events per second</dt>
              <dd>{snapshot.events_per_second}</dd>
            </div>
          </dl>
        </div>
        {chart && (
          <TimeChart
            x={chart.x}
            series={chart.series}
            format={(v) => formatMetric("pageviews", v, true)}
            bars
            height={160}
            label="Pageviews per minute, last 30 minutes"
          />
        )}
        {error !== undefined && <ErrorBox error={error} />}
      </Card>
      <Card title="Top pages now" testId="live-pages">
        <SnapshotTable
          rows={snapshot.top_pages}
          keyName="page"
          label="Page"
          metric="pageviews"
          dimension="event:page"
        />
      </Card>
      <Card title="Recent events" testId="live-events">
        <RecentEvents version={snapshot.updated_at} />
      </Card>
      <Card title="Sources now">
        <SnapshotTable
          rows={snapshot.top_sources}
          keyName="source"
          label="Source"
          metric="visitors"
          dimension="visit:source"
        />
      </Card>
      <Card title="Countries and devices now">
        <SnapshotTable
          rows={snapshot.countries}
          keyName="country"
          label="Country"
          metric="visitors"
          dimension="visit:country"
        />
        <SnapshotTable
          rows={snapshot.devices}
          keyName="device"
          label="Device"
          metric="visitors"
          dimension="visit:device"
        />
      </Card>
    </div>
  );
}
