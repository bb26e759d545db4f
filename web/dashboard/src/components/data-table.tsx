/**
 * The dashboard's table: a dimension column whose values filter the whole dashboard when clicked
 * (real buttons, so Tab and Enter work), metric columns, the comparison's change, a bar showing
 * each row's share, and CSV export of exactly what the table holds.
 */
import type { CSSProperties, ReactNode } from "react";
import { change, formatChange, formatMetric, LOWER_IS_BETTER } from "../format.ts";
import { CsvButton } from "./csv-button.tsx";

export interface TableRow {
  /** The dimension's raw value (what a filter matches). */
  key: string;
  label: ReactNode;
  values: Record<string, number>;
  previous?: Record<string, number>;
}

export interface Column {
  key: string;
  label: string;
  /** How a value is written, when the metric's name alone does not say (an amount needs its currency). */
  format?: (value: number | undefined) => string;
}

interface Props {
  /** Heading of the first column. */
  keyLabel: string;
  /** The first column's CSV header (default: keyLabel); breakdowns use the API's own name, e.g. `page`. */
  csvKey?: string;
  columns: Column[];
  rows: TableRow[];
  /** Clicking a row's label: usually adds a filter. Rows with an empty key are not clickable. */
  onPick?: (key: string) => void;
  pickHint?: string;
  /** CSV file name, without extension. */
  csvName: string;
  /** Shows the change against the comparison period for the first column. */
  comparing?: boolean;
  footer?: ReactNode;
  caption?: string;
}

export function DataTable({
  keyLabel,
  csvKey,
  columns,
  rows,
  onPick,
  pickHint,
  csvName,
  comparing,
  footer,
  caption,
}: Props) {
  const barMetric = columns[0]?.key ?? "";
  const max = Math.max(1, ...rows.map((r) => r.values[barMetric] ?? 0));
  const csvHeader = [csvKey ?? keyLabel, ...columns.map((c) => c.key), ...(comparing ? [`${barMetric}_previous`] : [])];
  const csvRows = () =>
    rows.map((r) => [
      r.key,
      ...columns.map((c) => r.values[c.key] ?? 0),
      ...(comparing ? [r.previous?.[barMetric] ?? ""] : []),
    ]);
  return (
    <div className="table-wrap">
      <table className="data">
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            <th scope="col">{keyLabel}</th>
            {columns.map((c) => (
              <th scope="col" key={c.key} className="num">
                {c.label}
              </th>
            ))}
            {comparing && (
              <th scope="col" className="num">
                Change
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const share = ((row.values[barMetric] ?? 0) / max) * 100;
            const delta = comparing ? change(row.values[barMetric] ?? 0, row.previous?.[barMetric]) : undefined;
            const good = delta !== undefined && (LOWER_IS_BETTER.has(barMetric) ? delta < 0 : delta > 0);
            return (
              <tr key={row.key} data-key={row.key}>
                <th scope="row" className="label-cell" style={{ "--share": `${share}%` } as CSSProperties}>
                  {onPick && row.key !== "" ? (
                    <button
                      type="button"
                      className="row-pick"
                      onClick={() => onPick(row.key)}
                      title={pickHint ?? "Filter the dashboard by this value"}
                    >
                      {row.label}
                    </button>
                  ) : (
                    <span className="row-label">{row.label}</span>
                  )}
                </th>
                {columns.map((c) => (
                  <td key={c.key} className="num">
                    {c.format ? c.format(row.values[c.key]) : formatMetric(c.key, row.values[c.key])}
                  </td>
                ))}
                {comparing && (
                  <td className={`num delta ${delta === undefined || delta === 0 ? "" : good ? "up" : "down"}`}>
                    {formatChange(delta)}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="table-foot">
        {footer}
        <CsvButton filename={`${csvName}.csv`} header={csvHeader} rows={csvRows} disabled={rows.length === 0} />
      </div>
    </div>
  );
}
