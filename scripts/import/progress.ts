/**
 * What `npm run import` shows: a progress bar on stderr (redrawn in place with "\r" on a terminal,
 * a line every few seconds otherwise) and the summary at the end. No dependency.
 */
import { GA4_DROPS, type Ga4Drop } from "./ga4-row.ts";
import type { LineError } from "./send.ts";

export interface ProgressState {
  bytes: number;
  totalBytes: number;
  accepted: number;
  /** By the server and locally. */
  rejected: number;
  skipped: number;
  sent: number;
  elapsedMs: number;
}

const count = (n: number) => n.toLocaleString("en-US");
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

export function rate(events: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((events * 1000) / elapsedMs) : 0;
}

/** `[#########---------------]  38%  12.3/32.0 MB  12,000 accepted  3 rejected  8,400 events/s` */
export function progressLine(s: ProgressState, width = 24): string {
  const share = s.totalBytes > 0 ? Math.min(1, s.bytes / s.totalBytes) : 1;
  const filled = Math.round(share * width);
  const bar = `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
  const skipped = s.skipped > 0 ? `  ${count(s.skipped)} skipped` : "";
  return `${bar} ${String(Math.floor(share * 100)).padStart(3)}%  ${mb(s.bytes)}/${mb(s.totalBytes)} MB  ${count(s.accepted)} accepted  ${count(s.rejected)} rejected${skipped}  ${count(rate(s.sent, s.elapsedMs))} events/s`;
}

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Redraws at most every 100 ms on a terminal; elsewhere (CI logs, pipes) prints a line every 5 s. */
export function createProgress(out: Output, now: () => number = Date.now) {
  let last = Number.NEGATIVE_INFINITY;
  let shown = "";
  const draw = (s: ProgressState) => {
    const text = progressLine(s);
    if (out.isTTY) out.write(`\r${text.padEnd(shown.length)}`);
    else out.write(`import: ${text}\n`);
    shown = text;
    last = now();
  };
  return {
    update(s: ProgressState): void {
      if (now() - last >= (out.isTTY ? 100 : 5000)) draw(s);
    },
    /** The final state, once; a log does not get the same line twice. */
    finish(s: ProgressState): void {
      if (out.isTTY || progressLine(s) !== shown) draw(s);
      if (out.isTTY) out.write("\n");
    },
  };
}

export interface ImportSummary {
  file: string;
  format: string;
  property_id: string;
  bytes: number;
  /** Events sent to the server (each chunk counted once, however often it was retried). */
  sent: number;
  accepted: number;
  /** Refused by the server. */
  rejected: number;
  /** Refused before sending: not UTF-8, bad CSV, unmappable GA4 rows, over 32 KB. */
  rejected_locally: number;
  /** GA4 events left out on purpose (`--ga4-skip`), by name. */
  skipped: Record<string, number>;
  /** Values the GA4 mapping dropped from events it kept, by reason. */
  dropped: Partial<Record<Ga4Drop, number>>;
  chunks: number;
  retries: number;
  seconds: number;
  events_per_second: number;
  /** The first errors, in file order, with file line numbers (the server lists at most 100 per chunk). */
  errors: LineError[];
  /** Why the import stopped before the end of the file, if it did. */
  stopped?: string;
  interrupted?: boolean;
  /** When it stopped early: every line before this one was answered; `--from-line` resumes here. */
  resume_from_line?: number;
}

/** The summary as a person reads it. */
export function formatSummary(s: ImportSummary): string {
  const rejected = s.rejected + s.rejected_locally;
  const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
  const out = [
    `${s.stopped ? "Import stopped" : s.interrupted ? "Import interrupted" : "Import finished"}: ${s.file} (${s.format}) → ${s.property_id}`,
    `  accepted  ${count(s.accepted)}`,
    `  rejected  ${count(rejected)}${s.rejected_locally > 0 ? ` (${count(s.rejected_locally)} before sending)` : ""}`,
  ];
  if (skipped > 0)
    out.push(
      `  skipped   ${count(skipped)} (${Object.entries(s.skipped)
        .map(([name, n]) => `${name} ${count(n)}`)
        .join(", ")})`,
    );
  out.push(
    `  ${mb(s.bytes)} MB in ${s.seconds.toFixed(1)} s, ${count(s.events_per_second)} events/s, ${s.chunks} chunks, ${s.retries} retries`,
  );
  const dropped = Object.entries(s.dropped) as [Ga4Drop, number][];
  if (dropped.length > 0) {
    out.push("  dropped from kept events:");
    for (const [reason, n] of dropped) out.push(`    ${count(n).padStart(8)}  ${GA4_DROPS[reason]}`);
  }
  if (s.errors.length > 0) {
    out.push(`  first ${s.errors.length} of ${count(rejected)} errors:`);
    for (const e of s.errors) out.push(`    line ${e.line} [${e.code}] ${e.message}`);
  }
  if (s.stopped) out.push(`  stopped: ${s.stopped}`);
  if (s.resume_from_line !== undefined)
    out.push(`  every line before ${s.resume_from_line} was answered; resume with --from-line ${s.resume_from_line}`);
  return out.join("\n");
}
