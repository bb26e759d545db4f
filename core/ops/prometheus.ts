/**
 * The ops metrics report as Prometheus text exposition (format 0.0.4, which Prometheus, Grafana
 * Agent and OpenMetrics scrapers all read). The counters are sums over the report's window, which
 * rise and fall as the window moves, so they are exposed as gauges (`tally_<name>`, no `_total`: a
 * Prometheus counter must only grow, and rate() would read every fall as a restart): a moving
 * window, graphed as it is (README "Operating Tally" has a scrape config). Timings are summaries in
 * milliseconds (the names say `_ms`), gauges are as they are.
 */
import type { Labels } from "./metric-names.ts";
import type { OpsMetricsReport } from "./metrics-report.ts";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** HELP text: backslash and line feed escaped. */
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/** A metric or label name the format accepts (anything else becomes `_`). */
export function metricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const parts = Object.entries(labels).map(([k, v]) => `${metricName(k)}="${escapeLabelValue(String(v))}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

const num = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN");

/** Series grouped by name, in first-seen order: one HELP and TYPE per family. */
function families<T extends { name: string; help: string }>(series: readonly T[]): [string, string, T[]][] {
  const byName = new Map<string, [string, string, T[]]>();
  for (const s of series) {
    const family = byName.get(s.name) ?? [s.name, s.help, []];
    family[2].push(s);
    byName.set(s.name, family);
  }
  return [...byName.values()];
}

/** The report as exposition text (ends with a line feed). */
export function renderPrometheus(report: OpsMetricsReport): string {
  const lines: string[] = [];
  const head = (name: string, help: string, type: string) =>
    lines.push(`# HELP ${name} ${escapeHelp(help || name)}`, `# TYPE ${name} ${type}`);
  for (const [name, help, series] of families(report.counters)) {
    const family = `tally_${metricName(name)}`;
    head(family, `${help} (over the last ${report.minutes} minutes)`, "gauge");
    for (const s of series) lines.push(`${family}${labelText(s.labels)} ${num(s.total)}`);
  }
  for (const [name, help, series] of families(report.timings)) {
    const family = `tally_${metricName(name)}`;
    head(family, `${help} (ms, over the last ${report.minutes} minutes)`, "summary");
    for (const s of series) {
      for (const [q, v] of [
        ["0.5", s.p50],
        ["0.95", s.p95],
        ["0.99", s.p99],
      ] as const)
        lines.push(`${family}${labelText(s.labels, ["quantile", q])} ${num(v)}`);
      lines.push(`${family}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${family}_count${labelText(s.labels)} ${num(s.count)}`);
    }
  }
  for (const [name, help, series] of families(report.gauges)) {
    const family = `tally_${metricName(name)}`;
    head(family, help, "gauge");
    for (const s of series) lines.push(`${family}${labelText(s.labels)} ${num(s.value)}`);
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}
