/**
 * Data quality (`GET /api/v1/data-quality`): the hours whose event counts in the archive,
 * ClickHouse and the warehouse disagreed, per the hourly check. Shown beside the bot audit: both
 * say what the reports do and do not count. Without a warehouse the card says so and nothing more.
 */
import { ApiError, api } from "../api.ts";
import { Card } from "../components/card.tsx";
import { Async, Empty } from "../components/status.tsx";
import { useDash } from "../context.ts";
import { formatMetric } from "../format.ts";
import { useApi } from "../use-api.ts";

interface DataQualityReport {
  checked_hours: number;
  mismatches: {
    hour: string;
    archive_events: number;
    clickhouse_events: number | null;
    warehouse_events: number;
  }[];
}

const NO_WAREHOUSE: DataQualityReport = { checked_hours: -1, mismatches: [] };

export function DataQualityCard({ from, to }: { from: string; to: string }) {
  const { property, token } = useDash();
  const path = `/api/v1/data-quality?${new URLSearchParams({ property_id: property, from, to })}`;
  const loaded = useApi(`data-quality:${path}`, (signal) =>
    api<DataQualityReport>(token, path, { signal }).catch((error: unknown) => {
      // No warehouse configured: nothing is checked, which is not an error of this page.
      if (error instanceof ApiError && error.code === "warehouse_unavailable") return NO_WAREHOUSE;
      throw error;
    }),
  );
  return (
    <Card title={`Data quality, ${from} to ${to} (UTC)`} wide testId="data-quality">
      <Async loaded={loaded}>
        {(data) =>
          data.checked_hours < 0 ? (
            <Empty>No warehouse is configured, so the hourly counts are not cross-checked.</Empty>
          ) : data.mismatches.length === 0 ? (
            <Empty>
              {data.checked_hours === 0
                ? "No hour of this period has been checked yet."
                : `All ${formatMetric("events", data.checked_hours)} checked hours agree: the archive, ClickHouse and the warehouse hold the same events.`}
            </Empty>
          ) : (
            <div className="table-wrap">
              <p className="muted" data-testid="data-quality-summary">
                {data.mismatches.length} of {formatMetric("events", data.checked_hours)} checked hours disagree. The
                archive is the truth; a reload of the hour (or a replay) repairs the others.
              </p>
              <table className="data">
                <thead>
                  <tr>
                    <th scope="col">Hour (UTC)</th>
                    <th scope="col">Archive</th>
                    <th scope="col">ClickHouse</th>
                    <th scope="col">Warehouse</th>
                  </tr>
                </thead>
                <tbody>
                  {data.mismatches.map((m) => (
                    <tr key={m.hour}>
                      <td>{m.hour.slice(0, 13).replace("T", " ")}:00</td>
                      <td>{formatMetric("events", m.archive_events)}</td>
                      <td>{m.clickhouse_events === null ? "not kept" : formatMetric("events", m.clickhouse_events)}</td>
                      <td>{formatMetric("events", m.warehouse_events)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </Card>
  );
}
