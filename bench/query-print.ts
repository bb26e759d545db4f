/**
 * The query bench's report (bench/query.ts): the dataset, the machine's other load, a table of
 * API and direct latencies per target, the targets met or missed, and where the overview's time
 * goes. Figures are printed, never asserted.
 */
import { availableParallelism } from "node:os";
import type { GenerateReport, tableSizes } from "./generate-events.ts";
import { ITERATIONS, type Measurement, WARMUP } from "./query-measure.ts";
import type { Target } from "./query-targets.ts";

/** Issue #20's API p95 targets: the overview with margin under issue #5's 150 ms line, pages, every other shape. */
const TARGET_P95_MS: Record<string, number> = { overview: 120, pages: 60 };
const TARGET_RAW_P95_MS = 500;
const TARGET_OVERHEAD = 1.3;

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)] ?? Number.NaN;
};

/** What the report describes: the dataset, its table sizes and dates, the targets and their measurement. */
export interface Report {
  generated: GenerateReport;
  sizes: Awaited<ReturnType<typeof tableSizes>>;
  start: string;
  end: string;
  list: Target[];
  measured: Measurement;
}

/** Prints the report on stdout. */
export function printReport({ generated: g, sizes, start, end, list, measured }: Report): void {
  const { samples, cpuBefore, cpuAfter, measureSeconds, rows, overviewStatements, alone } = measured;
  console.log(
    `\nQuery bench: ${g.events.toLocaleString()} events, ${g.sessions.toLocaleString()} sessions, ${start} … ${end} (UTC)`,
  );
  console.log(
    `generated in ${(g.insert_seconds + g.session_log_seconds + g.optimize_seconds).toFixed(0)} s (events ${g.insert_seconds.toFixed(0)} s = ${Math.round(g.events / g.insert_seconds).toLocaleString()} rows/s, session_log ${g.session_log_seconds.toFixed(0)} s, OPTIMIZE FINAL ${g.optimize_seconds.toFixed(0)} s)`,
  );
  for (const s of sizes)
    console.log(
      `  ${s.table.padEnd(16)} ${s.rows.toLocaleString().padStart(12)} rows ${(s.bytes / 2 ** 20).toFixed(1).padStart(8)} MiB on disk, ${s.parts} parts`,
    );
  console.log(
    `\n${ITERATIONS} iterations after ${WARMUP} warm-up, A B A B: API = HTTP to one workerd (Miniflare), cache off;`,
  );
  console.log(
    "direct = the same SQL from the core builders over ClickHouse HTTP from Node (overview: its statements concurrently)",
  );
  if (cpuBefore && cpuAfter) {
    const others =
      Math.max(0, cpuAfter.machine - cpuBefore.machine - (cpuAfter.ours - cpuBefore.ours)) / measureSeconds;
    console.log(
      `other processes used ${others.toFixed(2)} of ${availableParallelism()} cores during the measurement (they slow every figure)`,
    );
  }
  console.log("");
  console.log(
    "target             stmts  API p50  API p95  direct p50  direct p95  API/direct p50   p95    rows read  plan",
  );
  const verdicts: string[] = [];
  for (const [k, t] of list.entries()) {
    const s = samples[k];
    if (!s) continue;
    const [a50, a95, d50, d95] = [
      percentile(s.api, 0.5),
      percentile(s.api, 0.95),
      percentile(s.direct, 0.5),
      percentile(s.direct, 0.95),
    ];
    const [r50, r95] = [a50 / d50, a95 / d95];
    console.log(
      `${t.name.padEnd(18)} ${String(t.statements.length).padStart(5)} ${a50.toFixed(1).padStart(8)} ${a95.toFixed(1).padStart(8)} ${d50.toFixed(1).padStart(11)} ${d95.toFixed(1).padStart(11)} ${r50.toFixed(2).padStart(14)}× ${r95.toFixed(2).padStart(5)}× ${t.statements
        .reduce((n, x) => n + (rows.get(x) ?? 0), 0)
        .toLocaleString()
        .padStart(12)}  ${s.plan}`,
    );
    const limit = TARGET_P95_MS[t.name] ?? TARGET_RAW_P95_MS;
    verdicts.push(
      `  ${t.name}: API p95 ≤ ${limit} ms: ${a95.toFixed(1)} ms — ${a95 <= limit ? "met" : "missed"}; API ≤ ${TARGET_OVERHEAD}× direct: p50 ${r50.toFixed(2)}×, p95 ${r95.toFixed(2)}× — ${Math.max(r50, r95) <= TARGET_OVERHEAD ? "met" : "missed"}`,
    );
  }
  console.log("\nTargets (issue #20, on this machine):");
  for (const v of verdicts) console.log(v);
  console.log("\nThe overview's statements, each alone (direct, 15 runs, one after another):");
  for (const [k, s] of overviewStatements.entries()) {
    const a = alone[k];
    if (a)
      console.log(
        `  ${s.name.padEnd(22)} p50 ${percentile(a, 0.5).toFixed(1).padStart(6)} ms ${(rows.get(s) ?? 0).toLocaleString().padStart(12)} rows read  ${s.plan}`,
      );
  }
}
