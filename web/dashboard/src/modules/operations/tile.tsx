/** One tile of the monitoring board: its figure, a small per-minute chart and the breakdown by label. */
import { Card } from "../../components/card.tsx";
import { Empty } from "../../components/status.tsx";
import { TimeChart } from "../../components/time-chart.tsx";
import type { TileModel } from "./board.ts";

export function Tile({ tile }: { tile: TileModel }) {
  return (
    <Card title={tile.title} testId={tile.id}>
      <div className="ops-figure">
        <span className="kpi-value" data-testid={`${tile.id}-value`}>
          {tile.value}
        </span>
        <span className="muted">{tile.caption}</span>
      </div>
      {tile.hasData ? (
        <>
          <TimeChart
            x={tile.x}
            series={tile.series}
            format={tile.format}
            height={120}
            label={`${tile.title}, per minute`}
          />
          {tile.rows.length > 0 && <Breakdown tile={tile} />}
        </>
      ) : (
        <Empty>{tile.empty}</Empty>
      )}
    </Card>
  );
}

function Breakdown({ tile }: { tile: TileModel }) {
  const [first = "", ...rest] = tile.columns;
  return (
    <div className="table-wrap">
      <table className="data ops-breakdown">
        <thead>
          <tr>
            <th scope="col">{first}</th>
            {rest.map((c) => (
              <th scope="col" className="num" key={c}>
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {tile.rows.map((r) => (
            <tr key={r.key} data-key={r.key}>
              <th scope="row">
                <code>{r.key || "(none)"}</code>
              </th>
              {r.cells.map((cell, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: cells are positional, under the header's columns.
                <td className="num" key={i}>
                  {cell}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
