/** bench/fuzz.ts's report: counts per route and status class, then every broken rule. */
import type { FuzzTally } from "../test/support/fuzz-cases.ts";

/** What the stores hold once the queue has drained: counts, and every rule they break. */
export interface StoredCheck {
  archived: number;
  clickhouse: number;
  problems: string[];
  /** Stored fields with control characters that are known bugs (test/support/fuzz-known.ts), by cause. */
  knownGarbage: ReadonlyMap<string, number>;
}

export interface FuzzReport {
  tally: FuzzTally;
  seconds: number;
  /** Cases the HTTP client would not send (not answers of the Worker). */
  unsent: number;
  stored: StoredCheck;
  errorLogs: readonly string[];
  /** 5xx answers that are known bugs (test/support/fuzz-known.ts), by cause. */
  knownHits: ReadonlyMap<string, number>;
  cases: number;
  seed: number;
}

const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;
const SHOWN = 20;

export function printFuzzReport(r: FuzzReport): void {
  const rows = [...r.tally.byRoute.entries()].map(([route, counts]) => {
    const statuses = Object.entries(counts)
      .filter(([k]) => /^\d{3}$/.test(k))
      .sort((x, y) => y[1] - x[1])
      .slice(0, 4)
      .map(([k, n]) => `${k}×${n}`)
      .join(" ");
    const byClass: Record<string, number> = Object.fromEntries(CLASSES.map((c) => [c, counts[c] ?? 0]));
    return { route, ...byClass, "most frequent": statuses };
  });
  const answered = [...r.tally.byRoute.values()].reduce(
    (n, counts) => n + CLASSES.reduce((m, c) => m + (counts[c] ?? 0), 0),
    0,
  );
  console.log(
    `\nFuzz bench: ${r.cases.toLocaleString("en-US")} hostile requests (seed ${r.seed}) over ${rows.length} routes in ${r.seconds.toFixed(0)} s` +
      ` (${Math.round(answered / r.seconds)} per second); ${r.unsent} the HTTP client would not send`,
  );
  console.table(rows);
  console.log(
    `Stored: ${r.stored.archived.toLocaleString("en-US")} archived records, ${r.stored.clickhouse.toLocaleString("en-US")} events in ClickHouse`,
  );
  // 5xx first: they are what the run exists to find.
  const problems = [...r.tally.problems.map((p) => `${p.route}: ${p.problem}`), ...r.stored.problems].sort(
    (a, b) => Number(/: status 5\d\d/.test(b)) - Number(/: status 5\d\d/.test(a)),
  );
  if (r.errorLogs.length > 0) {
    console.log(`\n${r.errorLogs.length} error logs from workerd (first ${Math.min(SHOWN, r.errorLogs.length)}):`);
    for (const line of r.errorLogs.slice(0, SHOWN)) console.log(`  ${line.slice(0, 400)}`);
  }
  for (const [cause, n] of r.knownHits)
    console.log(`\nKnown bug (test/support/fuzz-known.ts), ${n} cases answered 5xx: ${cause}`);
  for (const [cause, n] of r.stored.knownGarbage)
    console.log(`\nKnown bug (test/support/fuzz-known.ts), ${n} archived fields with control characters: ${cause}`);
  if (problems.length === 0) {
    console.log(
      `\n${r.knownHits.size + r.stored.knownGarbage.size > 0 ? "Beyond the known bugs above: n" : "N"}o 5xx, every refusal in the envelope, nothing stored that is not a valid event of our properties.`,
    );
    return;
  }
  console.log(`\n${problems.length} broken rules (first ${Math.min(SHOWN, problems.length)}):`);
  for (const p of problems.slice(0, SHOWN)) console.log(`  ${p.slice(0, 600)}`);
}
