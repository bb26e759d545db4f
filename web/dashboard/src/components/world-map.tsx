/**
 * Visitors by country on an equirectangular world: every country's centre as a faint dot (which
 * sketches the continents), a bubble sized by visitors where there are any, and a 30° graticule.
 * No borders are shipped: a coarse world TopoJSON alone would cost more than the whole chart library,
 * and none is among the project's packages. Bubbles filter by country when clicked; the table beside
 * the map is the keyboard's way to do the same.
 */
import { countryName, formatMetric } from "../format.ts";
import { COUNTRY_POINTS } from "./country-points.ts";

const W = 360;
const H = 170;
const project = ([lat, lon]: readonly [number, number]) => [lon + 180, 85 - lat] as const;
const GRATICULE = [
  ...[-150, -120, -90, -60, -30, 0, 30, 60, 90, 120, 150].map((lon) => `M${lon + 180} 0V${H}`),
  ...[-60, -30, 0, 30, 60].map((lat) => `M0 ${85 - lat}H${W}`),
].join("");

export function WorldMap({
  counts,
  onPick,
}: {
  counts: readonly { country: string; visitors: number }[];
  onPick?: (country: string) => void;
}) {
  const max = Math.max(1, ...counts.map((c) => c.visitors));
  const placed = counts
    .map((c) => ({ ...c, point: COUNTRY_POINTS.get(c.country.toUpperCase()) }))
    .filter((c): c is typeof c & { point: readonly [number, number] } => c.point !== undefined)
    .sort((a, b) => b.visitors - a.visitors);
  const summary = placed
    .slice(0, 5)
    .map((c) => `${countryName(c.country)} ${formatMetric("visitors", c.visitors)}`)
    .join(", ");
  return (
    <svg
      className="world"
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={placed.length ? `Visitors by country: ${summary}` : "No visitors with a known country"}
    >
      <path d={GRATICULE} className="graticule" />
      {[...COUNTRY_POINTS].map(([code, p]) => {
        const [x, y] = project(p);
        return <circle key={code} cx={x} cy={y} r={1.7} className="land" />;
      })}
      {placed.map((c) => {
        const [x, y] = project(c.point);
        const r = 2 + Math.sqrt(c.visitors / max) * 12;
        return (
          // biome-ignore lint/a11y/noStaticElementInteractions: the table beside the map is the keyboard path; bubbles are a pointer convenience.
          <circle
            key={c.country}
            cx={x}
            cy={y}
            r={r}
            className="bubble"
            data-country={c.country}
            onClick={onPick ? () => onPick(c.country) : undefined}
          >
            <title>{`${countryName(c.country)}: ${formatMetric("visitors", c.visitors)} visitors`}</title>
          </circle>
        );
      })}
    </svg>
  );
}
