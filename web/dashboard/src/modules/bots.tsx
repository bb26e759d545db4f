/** Bot traffic: what filtering set aside in the period, by reason, with recent samples (`GET /api/v1/bots`); and the data-quality checks. */
import { useState } from "react";
import { api, type BotReport } from "../api.ts";
import { Card } from "../components/card.tsx";
import { CsvButton } from "../components/csv-button.tsx";
import { DataTable } from "../components/data-table.tsx";
import { Async, Empty } from "../components/status.tsx";
import { useDash } from "../context.ts";
import { BOT_REASONS, countryName, formatMetric } from "../format.ts";
import type { ViewState } from "../url-state.ts";
import { useApi } from "../use-api.ts";
import { DataQualityCard } from "./data-quality.tsx";

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The picker's range as the UTC days the bot report takes. */
export function botDays(state: Pick<ViewState, "range" | "from" | "to">, now = Date.now()): [string, string] {
  const back = (n: number) => day(now - n * 86_400_000);
  switch (state.range) {
    case "custom":
      return [state.from, state.to];
    case "today":
      return [back(0), back(0)];
    case "yesterday":
      return [back(1), back(1)];
    case "7d":
      return [back(6), back(0)];
    case "30d":
      return [back(29), back(0)];
    case "90d":
      return [back(89), back(0)];
    case "12mo":
      return [back(365), back(0)];
    default:
      return [back(3650), back(0)];
  }
}

/** Whether the audit answered less than the days asked (a range reaching past the warehouse's frontier). */
export function cutShort(answeredTo: string, lastDay: string): boolean {
  return Date.parse(answeredTo) < Date.parse(`${lastDay}T00:00:00Z`) + 86_400_000;
}

export function Bots() {
  const { state, property, token } = useDash();
  const [reclassify, setReclassify] = useState(false);
  const [from, to] = botDays(state);
  const path = `/api/v1/bots?${new URLSearchParams({ property, from, to, reclassify: String(reclassify), samples: "20" })}`;
  const loaded = useApi(`bots:${path}`, (signal) => api<BotReport>(token, path, { signal }));
  return (
    <div className="grid">
      <Card
        title={`Filtered traffic, ${from} to ${to} (UTC)`}
        wide
        testId="bot-summary"
        actions={
          <label className="check">
            <input type="checkbox" checked={reclassify} onChange={(e) => setReclassify(e.target.checked)} />
            Re-apply today's rules to stored traffic
          </label>
        }
      >
        <Async loaded={loaded}>
          {(data) => (
            <>
              {cutShort(data.to, to) && (
                <p className="muted" data-testid="bot-cut">
                  Counted up to {data.to.slice(0, 16).replace("T", " ")} UTC: the warehouse has loaded the hours before
                  it; the audit cannot join its older part with ClickHouse's newer one.
                </p>
              )}
              <ul className="kpis">
                <li>
                  <div className="kpi">
                    <span className="kpi-label">All events</span>
                    <span className="kpi-value">{formatMetric("events", data.total_events)}</span>
                  </div>
                </li>
                <li>
                  <div className="kpi">
                    <span className="kpi-label">From people</span>
                    <span className="kpi-value">{formatMetric("events", data.human_events)}</span>
                  </div>
                </li>
                <li>
                  <div className="kpi">
                    <span className="kpi-label">From bots (excluded from reports)</span>
                    <span className="kpi-value" data-testid="bot-events">
                      {formatMetric("events", data.bot_events)}
                    </span>
                    <span className="muted">
                      {data.total_events ? formatMetric("bounce_rate", data.bot_events / data.total_events) : "0%"} of
                      all events
                    </span>
                  </div>
                </li>
              </ul>
              {data.by_reason.length === 0 ? (
                <Empty>No bot traffic was filtered in this period.</Empty>
              ) : (
                <DataTable
                  keyLabel="reason"
                  columns={[
                    { key: "events", label: "Events" },
                    { key: "visitors", label: "Visitors" },
                  ]}
                  rows={data.by_reason.map((r) => ({
                    key: r.reason,
                    label: (
                      <>
                        <code>{r.reason}</code> <span className="muted">{BOT_REASONS[r.reason] ?? ""}</span>
                      </>
                    ),
                    values: { events: r.events, visitors: r.visitors },
                  }))}
                  csvName="bots-by-reason"
                />
              )}
            </>
          )}
        </Async>
      </Card>
      <Card title="Recent samples" wide testId="bot-samples">
        <Async loaded={loaded} isEmpty={(d) => d.samples.length === 0} empty="No samples: nothing was filtered.">
          {(data) => (
            <div className="table-wrap">
              <table className="data samples">
                <thead>
                  <tr>
                    <th scope="col">Time (UTC)</th>
                    <th scope="col">Reason</th>
                    <th scope="col">User agent</th>
                    <th scope="col">Page</th>
                    <th scope="col">Country</th>
                    <th scope="col">ASN</th>
                  </tr>
                </thead>
                <tbody>
                  {data.samples.map((s, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: samples have no id; their order is the API's.
                    <tr key={i}>
                      <td>{s.event_timestamp}</td>
                      <td>
                        <code>{s.reason}</code>
                      </td>
                      <td className="ua">{s.user_agent || "(none)"}</td>
                      <td className="ua">{s.page_url}</td>
                      <td>{s.country ? countryName(s.country) : ""}</td>
                      <td>{String(s.asn || "")}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div className="table-foot">
                <CsvButton
                  filename="bot-samples.csv"
                  header={["event_timestamp", "reason", "user_agent", "page_url", "country", "asn"]}
                  rows={() =>
                    data.samples.map((s) => [
                      s.event_timestamp,
                      s.reason,
                      s.user_agent,
                      s.page_url,
                      s.country,
                      String(s.asn),
                    ])
                  }
                />
              </div>
            </div>
          )}
        </Async>
      </Card>
      <DataQualityCard from={from} to={to} />
    </div>
  );
}
