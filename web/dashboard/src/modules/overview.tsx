/** Overview: the six headline figures with their change, a time series (with the comparison period), and the top lists. */
import { useMemo } from "react";
import type { Metric, TimeDimension } from "../../../../core/query/spec.ts";
import { AnnotationList, chartSpan } from "../components/annotations.tsx";
import { Breakdown } from "../components/breakdown.tsx";
import { Card } from "../components/card.tsx";
import { Async } from "../components/status.tsx";
import { bucketSeconds, TimeChart } from "../components/time-chart.tsx";
import { useDash, useQuery } from "../context.ts";
import { change, formatChange, formatMetric, LOWER_IS_BETTER, METRIC_LABELS } from "../format.ts";
import type { ViewState } from "../url-state.ts";

const KPIS: Metric[] = ["visitors", "visits", "pageviews", "bounce_rate", "avg_session_duration", "views_per_visit"];
const INTERVALS: { id: TimeDimension; label: string }[] = [
  { id: "time:hour", label: "Hours" },
  { id: "time:day", label: "Days" },
  { id: "time:week", label: "Weeks" },
  { id: "time:month", label: "Months" },
];

/** A bucket size that gives a readable number of points for the range. */
export function defaultInterval(state: Pick<ViewState, "range" | "from" | "to">): TimeDimension {
  switch (state.range) {
    case "today":
    case "yesterday":
      return "time:hour";
    case "12mo":
      return "time:month";
    case "custom": {
      const days = (Date.parse(state.to) - Date.parse(state.from)) / 86_400_000 + 1;
      return days <= 2 ? "time:hour" : days <= 120 ? "time:day" : "time:week";
    }
    default:
      return "time:day";
  }
}

export function Overview() {
  const { state, navigate } = useDash();
  const picked = state.params.get("metric");
  const metric = KPIS.find((m) => m === picked) ?? "visitors";
  const interval = INTERVALS.find((i) => i.id === state.params.get("interval"))?.id ?? defaultInterval(state);
  const totals = useQuery({ metrics: KPIS });
  const series = useQuery({ metrics: KPIS, dimensions: [interval], limit: 10_000 });
  const index = KPIS.indexOf(metric);
  const chart = useMemo(() => {
    if (!series.data) return undefined;
    const x = series.data.results.map((r) => bucketSeconds(r.dimensions[0] ?? ""));
    const current = series.data.results.map((r) => r.metrics[index] ?? 0);
    const previous = series.data.comparison?.map((r) => r.metrics[index] ?? 0);
    return {
      x,
      series: [
        { label: "This period", values: current },
        ...(previous ? [{ label: "Comparison", values: x.map((_, i) => previous[i] ?? 0), previous: true }] : []),
      ],
      format: (v: number) => formatMetric(metric, v, true),
    };
  }, [series.data, index, metric]);

  return (
    <div className="grid">
      <Card title="Summary" wide testId="kpis">
        <Async loaded={totals}>
          {(data) => {
            const now = data.results[0]?.metrics ?? [];
            const before = data.comparison?.[0]?.metrics;
            return (
              <ul className="kpis">
                {KPIS.map((m, i) => {
                  const value = now[i] ?? 0;
                  const delta = before ? change(value, before[i]) : undefined;
                  const good = delta !== undefined && (LOWER_IS_BETTER.has(m) ? delta < 0 : delta > 0);
                  return (
                    <li key={m}>
                      <button
                        type="button"
                        className="kpi"
                        data-metric={m}
                        aria-pressed={m === metric}
                        onClick={() => navigate({ metric: m === "visitors" ? null : m }, { replace: true })}
                      >
                        <span className="kpi-label">{METRIC_LABELS[m]}</span>
                        <span className="kpi-value" data-testid={`kpi-${m}`}>
                          {formatMetric(m, value)}
                        </span>
                        {before && (
                          <span
                            className={`kpi-change ${delta === undefined || delta === 0 ? "" : good ? "up" : "down"}`}
                            data-testid={`kpi-change-${m}`}
                          >
                            {formatChange(delta)} <span className="muted">vs {formatMetric(m, before[i])}</span>
                          </span>
                        )}
                      </button>
                    </li>
                  );
                })}
              </ul>
            );
          }}
        </Async>
        {totals.data?.meta.comparison_unavailable && (
          <p className="note">No comparison: {totals.data.meta.comparison_unavailable}</p>
        )}
      </Card>
      <Card
        title={`${METRIC_LABELS[metric]} over time`}
        wide
        testId="timeseries"
        actions={
          <label className="control">
            <span className="visually-hidden">Interval</span>
            <select value={interval} onChange={(e) => navigate({ interval: e.target.value }, { replace: true })}>
              {INTERVALS.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.label}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <Async loaded={series} isEmpty={(d) => d.results.every((r) => r.metrics.every((v) => v === 0))}>
          {() =>
            chart && (
              <TimeChart
                x={chart.x}
                series={chart.series}
                format={chart.format}
                wallClock
                annotated
                label={`${METRIC_LABELS[metric]} per ${interval.slice(5)}`}
              />
            )
          }
        </Async>
        {chart && <AnnotationList span={chartSpan(chart.x)} />}
      </Card>
      <Card title="Top pages" testId="top-pages">
        <Breakdown dimension="event:page" metrics={["visitors", "pageviews"]} csvName="top-pages" />
      </Card>
      <Card title="Top sources" testId="top-sources">
        <Breakdown dimension="visit:source" metrics={["visitors", "visits"]} csvName="top-sources" />
      </Card>
      <Card title="Countries" testId="top-countries">
        <Breakdown dimension="visit:country" metrics={["visitors"]} csvName="countries" />
      </Card>
      <Card title="Devices" testId="top-devices">
        <Breakdown dimension="visit:device" metrics={["visitors", "visits"]} csvName="devices" />
      </Card>
    </div>
  );
}
