/**
 * Time series with uPlot (about 20 KB gzipped): the current period as a filled line (or bars), the
 * comparison period dashed on the same axis, resized with its box and redrawn with the theme. An
 * `annotated` chart marks the team's notes (components/annotations.tsx) with a line on their date.
 */
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useTheme } from "../theme.ts";
import { type Annotation, chartSpan, dateSeconds, useAnnotations } from "./annotations.tsx";

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
  /** Marks the property's annotations: for charts whose x axis is the property's calendar. */
  annotated?: boolean;
}

/** "2026-11-03" or "2026-11-03 14:00:00" (a bucket label) → seconds, read as UTC. */
export function bucketSeconds(label: string): number {
  const [date = "", time = "00:00:00"] = label.split(" ");
  return Date.parse(`${date}T${time}Z`) / 1000;
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * One marker per note inside the chart's span, as elements over the plot (not canvas strokes) so
 * each has its text as a tooltip; a note in the last bucket sits at that bucket's start.
 */
function drawMarkers(u: uPlot, x: readonly number[], notes: readonly Annotation[]): void {
  for (const old of u.over.querySelectorAll(".annotation-marker")) old.remove();
  const span = chartSpan(x);
  const last = x.at(-1);
  if (!span || last === undefined) return;
  const byDate = Map.groupBy(
    notes.filter((n) => n.date >= span.from && n.date <= span.to),
    (n) => n.date,
  );
  for (const [date, group] of byDate) {
    const marker = document.createElement("div");
    marker.className = "annotation-marker";
    marker.dataset.testid = "annotation-marker";
    marker.dataset.date = date;
    marker.title = `${date}: ${group.map((n) => n.text).join(" · ")}`;
    marker.style.left = `${u.valToPos(Math.min(dateSeconds(date), last), "x")}px`;
    u.over.append(marker);
  }
}

export function TimeChart({ x, series, format, wallClock, bars, height = 240, label, annotated }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const theme = useTheme();
  const span = useMemo(() => (annotated ? chartSpan(x) : null), [annotated, x]);
  const notes = useAnnotations(span);
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
      hooks: notes?.length ? { draw: [(u: uPlot) => drawMarkers(u, x, notes)] } : {},
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
  }, [x, series, format, wallClock, bars, height, theme, notes]);
  return <div ref={box} className="chart" role="img" aria-label={label} />;
}
