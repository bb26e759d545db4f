/**
 * Time series with uPlot (about 20 KB gzipped): the current period as a filled line (or bars), the
 * comparison period dashed on the same axis, resized with its box and redrawn with the theme.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useTheme } from "../theme.ts";

export interface Series {
  label: string;
  values: number[];
  /** The comparison period: dashed and muted. */
  previous?: boolean;
}

interface Props {
  /** Seconds since the epoch, one per point. */
  x: number[];
  series: Series[];
  format: (v: number) => string;
  /** Wall-clock labels (the API's buckets are in the property's zone): show them as UTC so they read unchanged. */
  wallClock?: boolean;
  bars?: boolean;
  height?: number;
  label: string;
}

/** "2026-11-03" or "2026-11-03 14:00:00" (a bucket label) → seconds, read as UTC. */
export function bucketSeconds(label: string): number {
  const [date = "", time = "00:00:00"] = label.split(" ");
  return Date.parse(`${date}T${time}Z`) / 1000;
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

export function TimeChart({ x, series, format, wallClock, bars, height = 240, label }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const accent = css("--accent");
    const muted = css("--muted");
    const grid = css("--grid");
    // The colours above come from the theme's CSS variables: redraw when it changes.
    const fillAlpha = theme === "dark" ? "33" : "22";
    const axis = { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      ...(wallClock ? { tzDate: (ts: number) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") } : {}),
      legend: { show: series.length > 1 },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [axis, { ...axis, values: (_u, ticks) => ticks.map((t) => format(t)), size: 60 }],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.previous ? muted : accent,
          width: s.previous ? 1.5 : 2,
          dash: s.previous ? [6, 4] : undefined,
          fill: s.previous ? undefined : `${accent}${fillAlpha}`,
          points: { show: x.length < 40 },
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : format(v)),
          ...(bars ? { paths: uPlot.paths.bars?.({ size: [0.7, 40] }), fill: s.previous ? undefined : accent } : {}),
        })),
      ],
    };
    const chart = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() => chart.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [x, series, format, wallClock, bars, height, theme]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
